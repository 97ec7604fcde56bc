-- pending_backlog: the submissions still pending (AI review done, waiting
-- for an admin) as of the last load, per project and UTC day of created_at,
-- with their age in days before today (0 created today) and its bucket:
-- 0-1 days, 2-3 days, 4-7 days, 8-14 days, 15-30 days, over 30 days.
SELECT
  f.project,
  f.day,
  c.days_ago AS age_days,
  CASE
    WHEN c.days_ago <= 1 THEN '0-1 days'
    WHEN c.days_ago <= 3 THEN '2-3 days'
    WHEN c.days_ago <= 7 THEN '4-7 days'
    WHEN c.days_ago <= 14 THEN '8-14 days'
    WHEN c.days_ago <= 30 THEN '15-30 days'
    ELSE 'over 30 days'
  END AS age_bucket,
  COUNT(DISTINCT f.submission_id) AS pending
FROM {{table "submission_facts"}} AS f
JOIN {{table "calendar_days"}} AS c
  ON c.project = f.project
  AND c.day = f.day
WHERE f.status = 'pending'
GROUP BY f.project, f.day, c.days_ago
