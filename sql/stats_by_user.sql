-- stats_by_user: submissions per project, UTC day, user ID and status, with
-- the latest submission's creation time that day. Sum submissions and take
-- the MAX of last_submitted_at over the days of a period (a submission
-- belongs to exactly one day). day is the last column: columns are only
-- ever added, at the end.
SELECT
  project,
  userid,
  status,
  COUNT(DISTINCT submission_id) AS submissions,
  MAX(created_at) AS last_submitted_at,
  day
FROM {{table "submission_facts"}}
GROUP BY project, day, userid, status
