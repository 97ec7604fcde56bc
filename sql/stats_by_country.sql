-- stats_by_country: submissions per project, UTC day, country (ID issuing
-- country, else nationality; NULL when neither is known) and status. Sum
-- submissions over the days of a period (a submission belongs to exactly one
-- day). day is the last column: columns are only ever added, at the end.
SELECT
  project,
  country,
  status,
  COUNT(DISTINCT submission_id) AS submissions,
  day
FROM {{table "submission_facts"}}
GROUP BY project, day, country, status
