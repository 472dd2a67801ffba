"""The staff console's storage: accounts and scopes, passwords, sessions, the login rate limit,
the audit log, canned replies, escalated threads, the inbox query and the dashboard figures.

Functions take the caller's session and never commit (the console view's transaction does).
"""
