"""Points (积分制管理) and volunteering: small repositories over storage/points_models.py.

- ledger: awards, staff adjustments, balances, history (append-only, one entry per cause)
- mall: the points mall, redemptions and their cancellation (concurrency-safe)
- activities: volunteer activities, sign-ups with a waitlist, check-in, due reminders
- leaderboard: ranks in the grid and the community, the monthly board
- resources: the resources list (skills and free time) and its search
- audit: who did what to points, when and why

Functions take the caller's session and never commit: a handler's work commits with its event,
a job's or the CLI's with its own transaction.
"""
