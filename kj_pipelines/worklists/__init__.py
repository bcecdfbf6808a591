"""The lists (清单) as of a month: key tasks and milestones, major projects, the problem ledger
(问题销号), supervision items (督办) and responsibilities, and their printed tables."""
