-- Slips printed in advance (an A4 sheet, a batch) wait in a drawer: the customer screen shows
-- only the slip an officer has just handed over, never one of these.
ALTER TABLE invitations ADD COLUMN preprinted boolean NOT NULL DEFAULT false;
