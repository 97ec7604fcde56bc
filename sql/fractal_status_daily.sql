-- fractal_status_daily: Fractal's total verifications per project and
-- snapshot day (snapshot_date: the UTC day of the pull; a day holds one
-- snapshot), one column per documented status; other sums the statuses the
-- vendor's documents do not list (kept in fractal_verification_totals,
-- never dropped). A status the API left out counts 0. The *_change columns
-- are the change since the project's previous snapshot, previous_day (NULL
-- for the first; a day with no pull is a gap, not a change of 0).
SELECT
  project,
  day,
  approved,
  rejected,
  pending,
  contacted,
  expired,
  total,
  other,
  LAG(day) OVER (PARTITION BY project ORDER BY day) AS previous_day,
  total - LAG(total) OVER (PARTITION BY project ORDER BY day) AS total_change,
  approved - LAG(approved) OVER (PARTITION BY project ORDER BY day) AS approved_change,
  rejected - LAG(rejected) OVER (PARTITION BY project ORDER BY day) AS rejected_change,
  pending - LAG(pending) OVER (PARTITION BY project ORDER BY day) AS pending_change,
  contacted - LAG(contacted) OVER (PARTITION BY project ORDER BY day) AS contacted_change,
  expired - LAG(expired) OVER (PARTITION BY project ORDER BY day) AS expired_change
FROM (
  SELECT
    project,
    snapshot_date AS day,
    CAST(SUM(CASE WHEN status = 'approved' THEN verifications ELSE 0 END) AS BIGINT) AS approved,
    CAST(SUM(CASE WHEN status = 'rejected' THEN verifications ELSE 0 END) AS BIGINT) AS rejected,
    CAST(SUM(CASE WHEN status = 'pending' THEN verifications ELSE 0 END) AS BIGINT) AS pending,
    CAST(SUM(CASE WHEN status = 'contacted' THEN verifications ELSE 0 END) AS BIGINT) AS contacted,
    CAST(SUM(CASE WHEN status = 'expired' THEN verifications ELSE 0 END) AS BIGINT) AS expired,
    CAST(SUM(verifications) AS BIGINT) AS total,
    CAST(SUM(CASE WHEN status IN ('approved', 'rejected', 'pending', 'contacted', 'expired') THEN 0 ELSE verifications END) AS BIGINT) AS other
  FROM {{table "fractal_verification_totals"}}
  GROUP BY project, snapshot_date
) AS daily
