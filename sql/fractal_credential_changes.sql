-- fractal_credential_changes: each change of a user's credential for a KYC
-- level between two consecutive snapshots of the project: from_credential
-- in the snapshot of previous_day, to_credential in that of day. A user and
-- level first seen has no row; one absent from a snapshot and back later
-- is compared with its last snapshot (previous_day says which). A NULL
-- credential (left out by the API) differs from any credential.
SELECT
  project,
  user_id,
  level,
  from_credential,
  to_credential,
  day,
  previous_day
FROM (
  SELECT
    project,
    user_id,
    level,
    LAG(credential) OVER (PARTITION BY project, user_id, level ORDER BY snapshot_date) AS from_credential,
    credential AS to_credential,
    snapshot_date AS day,
    LAG(snapshot_date) OVER (PARTITION BY project, user_id, level ORDER BY snapshot_date) AS previous_day
  FROM {{table "fractal_user_verifications"}}
) AS consecutive
WHERE previous_day IS NOT NULL
  AND (from_credential IS NULL AND to_credential IS NOT NULL
    OR from_credential IS NOT NULL AND to_credential IS NULL
    OR from_credential <> to_credential)
