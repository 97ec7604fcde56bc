-- fractal_country_latest: each project's verifications per country and
-- status in its latest snapshot (the newest snapshot_date of the project
-- in fractal_country_verifications), with that snapshot's day and time. A
-- country or status the API left out has no row.
SELECT
  c.project,
  c.country,
  c.status,
  c.verifications,
  c.snapshot_date AS day,
  c.snapshot_at
FROM {{table "fractal_country_verifications"}} AS c
JOIN (
  SELECT project, MAX(snapshot_date) AS day
  FROM {{table "fractal_country_verifications"}}
  GROUP BY project
) AS latest
  ON c.project = latest.project AND c.snapshot_date = latest.day
