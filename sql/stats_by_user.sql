-- stats_by_user: submissions per project, user ID and status, with the
-- latest submission's creation time.
SELECT
  project,
  userid,
  status,
  COUNT(DISTINCT submission_id) AS submissions,
  MAX(created_at) AS last_submitted_at
FROM {{table "submission_facts"}}
GROUP BY project, userid, status
