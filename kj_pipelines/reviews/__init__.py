"""The reviews' documents and scores: the weekly brief, the monthly report and board, the quarterly
and annual rankings, the annual summary, and the warehouse inputs each is made from."""
