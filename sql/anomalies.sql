-- anomalies: the days whose numbers leave their usual range, per project,
-- for four metrics of each complete UTC day: a day before today (a day
-- without submissions counts, from calendar_days) that a load other than a
-- rebuild finished with outcome ok after starting on a later day
-- (load_runs), so that a day loaded while it was still going on, and not
-- since, is neither scored nor part of another day's baseline:
--   volume              total submissions (stats_daily.total, 0 on a day
--                       without), noise n = total;
--   approval_rate       stats_daily.approval_rate, n = approved + rejected;
--   rejection_share     stats_daily.rejected_ratio, n = total;
--   aml_red_flag_share  Red Flag submissions over AML-screened ones
--                       (aml_count), n = aml_count.
-- A metric without a value on a day (a rate over 0) is not scored that day.
-- A rate is scored in the way most favourable to the day's submissions
-- still pending, which may yet be approved or rejected: by the end of the
-- range [lo, hi] of the values it could still take (approval rate:
-- approved / (approved + rejected + pending) to (approved + pending) /
-- (approved + rejected + pending); rejection share: rejected / total to
-- (rejected + pending) / total) that is nearest to expected, and 0 when
-- expected is inside it; volume and red-flag share are final (lo = hi =
-- value). So a recent day whose reviews are still going on is no anomaly.
-- expected is the median of the metric over the 28 days before the day
-- (its values there, the middle one, or the mean of the two middle ones);
-- MAD the median of their absolute deviations from expected;
-- scale = max(1.4826 MAD, noise), noise the Poisson or binomial error of
-- one day with one extra event: sqrt(expected + 1) for volume,
-- sqrt((expected (1 - expected) + 1 / n) / n) for a share; and
-- score = (the end of [lo, hi] nearest to expected - expected) / scale.
-- A day is listed, flagged, when |score| > 3.5 and at least 14 of the 28
-- days before it have a value.
WITH daily AS (
  SELECT
    c.project,
    c.day,
    c.days_ago,
    COALESCE(d.total, 0) AS total,
    COALESCE(d.approved, 0) AS approved,
    COALESCE(d.rejected, 0) AS rejected,
    COALESCE(d.pending, 0) AS pending,
    COALESCE(d.aml_count, 0) AS aml_count,
    d.approval_rate,
    d.rejected_ratio,
    r.red_flags
  FROM {{table "calendar_days"}} AS c
  LEFT JOIN {{table "stats_daily"}} AS d
    ON d.project = c.project
    AND d.day = c.day
  LEFT JOIN (
    SELECT project, day, COUNT(DISTINCT CASE WHEN aml_red_flag THEN submission_id END) AS red_flags
    FROM {{table "submission_facts"}}
    GROUP BY project, day
  ) AS r
    ON r.project = c.project
    AND r.day = c.day
  JOIN (
    SELECT project, day
    FROM {{table "load_runs"}}
    WHERE outcome = 'ok' AND command <> 'rebuild' AND CAST(started_at AS DATE) > day
    GROUP BY project, day
  ) AS complete
    ON complete.project = c.project
    AND complete.day = c.day
  WHERE c.days_ago >= 1
),
metrics AS (
  SELECT project, day, days_ago, 'volume' AS metric, total / 1 AS value, total / 1 AS lo, total / 1 AS hi, total AS n
  FROM daily
  UNION ALL
  SELECT project, day, days_ago, 'approval_rate', approval_rate,
    approved / NULLIF(approved + rejected + pending, 0), (approved + pending) / NULLIF(approved + rejected + pending, 0),
    approved + rejected
  FROM daily
  UNION ALL
  SELECT project, day, days_ago, 'rejection_share', rejected_ratio, rejected_ratio, (rejected + pending) / NULLIF(total, 0), total
  FROM daily
  UNION ALL
  SELECT project, day, days_ago, 'aml_red_flag_share', red_flags / NULLIF(aml_count, 0),
    red_flags / NULLIF(aml_count, 0), red_flags / NULLIF(aml_count, 0), aml_count
  FROM daily
),
baseline AS (
  SELECT
    m.project,
    m.day,
    m.metric,
    m.value,
    m.lo,
    m.hi,
    m.n,
    b.value AS past,
    ROW_NUMBER() OVER (PARTITION BY m.project, m.metric, m.day ORDER BY b.value) AS rn,
    COUNT(*) OVER (PARTITION BY m.project, m.metric, m.day) AS k
  FROM metrics AS m
  JOIN metrics AS b
    ON b.project = m.project
    AND b.metric = m.metric
    AND b.days_ago BETWEEN m.days_ago + 1 AND m.days_ago + 28
  WHERE m.value IS NOT NULL AND b.value IS NOT NULL
),
medians AS (
  SELECT project, day, metric, value, lo, hi, n, k, AVG(CASE WHEN 2 * rn BETWEEN k AND k + 2 THEN past END) AS expected
  FROM baseline
  GROUP BY project, day, metric, value, lo, hi, n, k
),
deviations AS (
  SELECT
    project,
    day,
    metric,
    value,
    lo,
    hi,
    n,
    k,
    expected,
    deviation,
    ROW_NUMBER() OVER (PARTITION BY project, metric, day ORDER BY deviation) AS rn
  FROM (
    SELECT md.project, md.day, md.metric, md.value, md.lo, md.hi, md.n, md.k, md.expected, ABS(t.past - md.expected) AS deviation
    FROM medians AS md
    JOIN baseline AS t
      ON t.project = md.project
      AND t.metric = md.metric
      AND t.day = md.day
  ) AS d
),
scored AS (
  SELECT
    project,
    day,
    metric,
    value,
    expected,
    CASE
      WHEN hi < expected THEN hi - expected
      WHEN lo > expected THEN lo - expected
      ELSE 0
    END / GREATEST(
      1.4826 * AVG(CASE WHEN 2 * rn BETWEEN k AND k + 2 THEN deviation END),
      CASE
        WHEN metric = 'volume' THEN SQRT(expected + 1)
        ELSE SQRT((expected * (1 - expected) + 1 / n) / n)
      END) AS score
  FROM deviations
  WHERE k >= 14
  GROUP BY project, day, metric, value, lo, hi, n, k, expected
)
SELECT project, day, metric, value, expected, score
FROM scored
WHERE ABS(score) > 3.5
