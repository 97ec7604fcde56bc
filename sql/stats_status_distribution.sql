-- stats_status_distribution: submissions per project and status (unknown
-- statuses included, lower-cased), and each status's share of the project.
SELECT
  project,
  status,
  submissions,
  submissions / SUM(submissions) OVER (PARTITION BY project) AS share
FROM (
  SELECT
    project,
    status,
    COUNT(DISTINCT submission_id) AS submissions
  FROM {{table "submission_facts"}}
  GROUP BY project, status
) AS by_status
