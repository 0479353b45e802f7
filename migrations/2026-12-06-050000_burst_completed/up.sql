-- Issue 15: whether a response's own check found it completing a burst of top scores for its
-- officer (and so flagged it 'burst' in the same transaction as its insert). The burst check
-- reads it beside the id of the officer's latest top scores and queues for `integrity::spread`
-- only those without it: in a sustained burst every earlier answer it reads completed a burst
-- itself, so nothing is queued, and only the first answers of a burst (and any whose check ran
-- before its predecessors had committed) are. False means only "not flagged 'burst' at insert";
-- such a response is queued, and a flag it already has is a conflict there. Read from the heap
-- row the check fetches for the id anyway, so it adds no read.
ALTER TABLE responses ADD COLUMN completed_burst boolean NOT NULL DEFAULT false;
