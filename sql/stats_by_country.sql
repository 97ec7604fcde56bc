-- stats_by_country: submissions per project, country (ID issuing country,
-- else nationality; NULL when neither is known) and status.
SELECT
  project,
  country,
  status,
  COUNT(DISTINCT submission_id) AS submissions
FROM {{table "submission_facts"}}
GROUP BY project, country, status
