package bigquery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/googleapi"

	"github.com/kycetl/kycetl/extract/retry"
	"github.com/kycetl/kycetl/load/archive"
)

// cancelTimeout bounds the request that cancels a job after its caller gave up.
const cancelTimeout = 10 * time.Second

// ErrConcurrentUpdate is wrapped by the error of a job that BigQuery
// aborted because a concurrent transaction or DML statement changed the
// same table (another kycetl on another machine loading the dataset).
var ErrConcurrentUpdate = errors.New("aborted by a concurrent update of the same table")

// abortedByConcurrentUpdate tells BigQuery's abort of a transaction or DML statement
// by a concurrent one, by its message, its only mark ("Transaction is
// aborted due to concurrent update against table ...", "Could not
// serialize access to table ... due to concurrent update").
func abortedByConcurrentUpdate(msg string) bool {
	return strings.Contains(msg, "due to concurrent update")
}

// query runs a GoogleSQL query job to its end. A job aborted by a
// concurrent update changed nothing (a script rolls back) and is run again,
// as a new job, with the retry policy's backoff.
func (w *Warehouse) query(ctx context.Context, idPrefix, text string, params []bigquery.QueryParameter) (archive.Job, error) {
	return retry.Do(ctx, w.retry, func() (archive.Job, time.Duration, error) {
		q := w.client.Query(text)
		q.JobIDConfig = bigquery.JobIDConfig{JobID: idPrefix, AddJobIDSuffix: true}
		q.Parameters = params
		job, err := w.run(ctx, q.Run)
		if err != nil && !errors.Is(err, ErrConcurrentUpdate) {
			return job, 0, retry.Permanent(err)
		}
		return job, 0, err
	}, func(err error, tries int, wait time.Duration) {
		w.log.Warn().Err(err).Int("tries", tries).Dur("wait", wait).Msg("BigQuery job aborted by a concurrent update; trying again")
	})
}

// run starts a job and waits for its end. The returned Job records it
// (zero when BigQuery refused to start it); the error carries BigQuery's
// own message.
func (w *Warehouse) run(ctx context.Context, start func(context.Context) (*bigquery.Job, error)) (archive.Job, error) {
	j, err := start(ctx)
	if err != nil {
		return archive.Job{}, fmt.Errorf("starting BigQuery job: %s", message(err))
	}
	rec := archive.Job{Warehouse: Name, ID: fullID(j), Outcome: archive.OutcomeFailed}
	st, err := j.Wait(ctx)
	if err != nil && ctx.Err() != nil {
		// Nobody will record what the job does from here: stop it.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelTimeout)
		if cerr := j.Cancel(cctx); cerr != nil {
			w.log.Warn().Str("job", rec.ID).Err(cerr).Msg("cancelling job")
		}
		cancel()
		return rec, fmt.Errorf("waiting for BigQuery job %s: %w", rec.ID, ctx.Err())
	}
	if err != nil {
		// A failed query answers getQueryResults with its error; the
		// job's status holds the canonical one.
		if s, serr := j.Status(ctx); serr == nil && s.Done() {
			st = s
		} else {
			return rec, fmt.Errorf("BigQuery job %s failed: %s", rec.ID, message(err))
		}
	}
	rec.BytesProcessed = bytesProcessed(st)
	if err := st.Err(); err != nil {
		w.log.Warn().Str("job", rec.ID).Str("error", message(err)).Msg("BigQuery job failed")
		if abortedByConcurrentUpdate(message(err)) {
			return rec, fmt.Errorf("BigQuery job %s failed: %w: %s", rec.ID, ErrConcurrentUpdate, message(err))
		}
		return rec, fmt.Errorf("BigQuery job %s failed: %s", rec.ID, message(err))
	}
	rec.Outcome = archive.OutcomeOK
	w.log.Debug().Str("job", rec.ID).Int64("bytes_processed", rec.BytesProcessed).Msg("BigQuery job done")
	return rec, nil
}

// fullID is the job's ID as the bq tool and the console take it:
// PROJECT:LOCATION.JOB_ID.
func fullID(j *bigquery.Job) string {
	id := j.ProjectID() + ":"
	if l := j.Location(); l != "" {
		id += l + "."
	}
	return id + j.ID()
}

// bytesProcessed is what a job read: the bytes a query processed, or the
// bytes of the files a load read.
func bytesProcessed(st *bigquery.JobStatus) int64 {
	if st == nil || st.Statistics == nil {
		return 0
	}
	if l, ok := st.Statistics.Details.(*bigquery.LoadStatistics); ok {
		return l.InputFileBytes
	}
	return st.Statistics.TotalBytesProcessed
}

// message is BigQuery's own message in err, with its reason.
func message(err error) string {
	var be *bigquery.Error
	if errors.As(err, &be) {
		return withReason(be.Message, be.Reason)
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		reason := ""
		if len(ge.Errors) > 0 {
			reason = ge.Errors[0].Reason
		}
		msg := ge.Message
		if msg == "" {
			msg = ge.Error()
		}
		return withReason(msg, reason)
	}
	return err.Error()
}

func withReason(msg, reason string) string {
	if reason == "" {
		return msg
	}
	return msg + " (" + reason + ")"
}
