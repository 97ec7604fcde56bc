-- abandonment_funnel: where incomplete submissions (the user left or never
-- submitted) stopped, per project, UTC day of created_at and camera process
-- step (camera_processes.type, from signals.cameraProcessInfo[].type):
--   reached    incomplete submissions with a process of this type;
--   abandoned  incomplete submissions whose last process (the highest
--              ordinal) is of this type: the last step reached;
--   errors     processes of this type with an error (not NULL or empty)
--              among the incomplete submissions.
-- Incomplete submissions without any camera process are one row with step
-- NULL (reached 0, abandoned their number, errors 0).
WITH incomplete AS (
  SELECT project, day, submission_id
  FROM {{table "submission_facts"}}
  WHERE status = 'incomplete'
),
steps AS (
  SELECT
    i.project,
    i.day,
    i.submission_id,
    p.type,
    p.ordinal,
    p.error
  FROM incomplete AS i
  JOIN {{table "camera_processes"}} AS p
    ON p.project = i.project
    AND p.created_date = i.day
    AND p.submission_id = i.submission_id
),
last_steps AS (
  SELECT project, day, submission_id, MAX(ordinal) AS ordinal
  FROM steps
  GROUP BY project, day, submission_id
)
SELECT
  s.project,
  s.day,
  s.type AS step,
  COUNT(DISTINCT s.submission_id) AS reached,
  COUNT(DISTINCT CASE WHEN l.ordinal IS NOT NULL THEN s.submission_id END) AS abandoned,
  COUNT(CASE WHEN NULLIF(s.error, '') IS NOT NULL THEN 1 END) AS errors
FROM steps AS s
LEFT JOIN last_steps AS l
  ON l.project = s.project
  AND l.day = s.day
  AND l.submission_id = s.submission_id
  AND l.ordinal = s.ordinal
GROUP BY s.project, s.day, s.type
UNION ALL
SELECT
  i.project,
  i.day,
  NULL AS step,
  0 AS reached,
  COUNT(DISTINCT i.submission_id) AS abandoned,
  0 AS errors
FROM incomplete AS i
LEFT JOIN last_steps AS l
  ON l.project = i.project
  AND l.day = i.day
  AND l.submission_id = i.submission_id
WHERE l.submission_id IS NULL
GROUP BY i.project, i.day
