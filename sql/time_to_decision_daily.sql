-- time_to_decision_daily: how long decisions take, per project, UTC day of
-- created_at and reviewer (the vendor's reviewer field: system, AI review,
-- or agent, human review; lower-cased; unknown when missing or empty).
-- A decision is a submission whose status is approved or rejected and that
-- has a kyc_result_at; its minutes run from created_at to kyc_result_at, to
-- the second (the days between the two from calendar_days, as the engines
-- differ in date arithmetic; a kyc_result_at more than 29 days ahead of
-- today is left out).
--   decided         decisions of the day;
--   median_minutes  the middle value, or the mean of the two middle ones;
--   p90_minutes     the nearest-rank 90th percentile: the smallest value
--                   with at least 90% of the day's values at or below it.
-- Columns are only ever added, at the end; reviewer is the split.
WITH decisions AS (
  SELECT
    f.project,
    f.day,
    COALESCE(NULLIF(LOWER(f.reviewer), ''), 'unknown') AS reviewer,
    (created_day.days_ago - result_day.days_ago) * 1440
      + (EXTRACT(HOUR FROM f.kyc_result_at) - EXTRACT(HOUR FROM f.created_at)) * 60
      + (EXTRACT(MINUTE FROM f.kyc_result_at) - EXTRACT(MINUTE FROM f.created_at))
      + (EXTRACT(SECOND FROM f.kyc_result_at) - EXTRACT(SECOND FROM f.created_at)) / 60 AS minutes
  FROM {{table "submission_facts"}} AS f
  JOIN {{table "calendar_days"}} AS created_day
    ON created_day.project = f.project
    AND created_day.day = f.day
  JOIN {{table "calendar_days"}} AS result_day
    ON result_day.project = f.project
    AND result_day.day = CAST(f.kyc_result_at AS DATE)
  WHERE f.status IN ('approved', 'rejected')
),
ranked AS (
  SELECT
    project,
    day,
    reviewer,
    minutes,
    ROW_NUMBER() OVER (PARTITION BY project, day, reviewer ORDER BY minutes) AS rn,
    COUNT(*) OVER (PARTITION BY project, day, reviewer) AS k
  FROM decisions
)
SELECT
  project,
  day,
  k AS decided,
  AVG(CASE WHEN 2 * rn BETWEEN k AND k + 2 THEN minutes END) AS median_minutes,
  MIN(CASE WHEN 10 * rn >= 9 * k THEN minutes END) AS p90_minutes,
  reviewer
FROM ranked
GROUP BY project, day, reviewer, k
