-- reject_reasons_daily: why submissions were rejected, per project and UTC
-- day of created_at: each reject code (kyc.commentCode, from
-- rejection_reasons.comment_code) with the rejected submissions that carry
-- it (a submission with several codes counts once for each), ranked within
-- the day, 1 the most frequent (ties share a rank). Rejected submissions
-- without a code are one row with reason NULL.
SELECT
  project,
  day,
  reason,
  submissions,
  RANK() OVER (PARTITION BY project, day ORDER BY submissions DESC) AS rank
FROM (
  SELECT
    f.project,
    f.day,
    NULLIF(r.comment_code, '') AS reason,
    COUNT(DISTINCT f.submission_id) AS submissions
  FROM {{table "submission_facts"}} AS f
  LEFT JOIN {{table "rejection_reasons"}} AS r
    ON r.project = f.project
    AND r.created_date = f.day
    AND r.submission_id = f.submission_id
  WHERE f.status = 'rejected'
  GROUP BY f.project, f.day, NULLIF(r.comment_code, '')
) AS reasons
