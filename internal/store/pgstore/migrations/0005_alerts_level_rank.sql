-- 0005: the console's "most severe first" sort (QueryAlerts with Sort
-- "level") reads this index instead of sorting every alert; the expression
-- is levelRankSQL in console.go, and must stay identical to it.
CREATE INDEX alerts_level_rank ON alerts ((CASE level WHEN 'critical' THEN 5 WHEN 'high' THEN 4 WHEN 'medium' THEN 3 WHEN 'low' THEN 2 WHEN 'informational' THEN 1 ELSE 0 END), seq);
