"""The staff console's storage: accounts and scopes, passwords, sessions, the login rate limit,
the audit log, canned replies, notice templates, escalated threads, the inbox query, the
dashboard figures, and what the management pages change beyond the domain modules (directory,
members_admin).

Functions take the caller's session and never commit (the console view's transaction does).
"""
