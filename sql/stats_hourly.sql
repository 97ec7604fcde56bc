-- stats_hourly: peak times. Submissions per project, UTC day and UTC hour
-- of created_at (0-23), by status (the statuses of stats_daily), with the
-- day's ISO weekday (1 Monday to 7 Sunday, from calendar_days). A weekday x
-- hour heat map sums total over the days of a period by weekday and hour;
-- a display in another time zone shifts the hours itself, the view stays
-- UTC. Hours without submissions have no row.
SELECT
  f.project,
  f.day,
  CAST(EXTRACT(HOUR FROM f.created_at) AS BIGINT) AS hour,
  c.weekday,
  COUNT(DISTINCT f.submission_id) AS total,
  COUNT(DISTINCT CASE WHEN f.status = 'approved' THEN f.submission_id END) AS approved,
  COUNT(DISTINCT CASE WHEN f.status = 'rejected' THEN f.submission_id END) AS rejected,
  COUNT(DISTINCT CASE WHEN f.status = 'incomplete' THEN f.submission_id END) AS incomplete,
  COUNT(DISTINCT CASE WHEN f.status = 'pending' THEN f.submission_id END) AS pending
FROM {{table "submission_facts"}} AS f
JOIN {{table "calendar_days"}} AS c
  ON c.project = f.project
  AND c.day = f.day
GROUP BY f.project, f.day, CAST(EXTRACT(HOUR FROM f.created_at) AS BIGINT), c.weekday
