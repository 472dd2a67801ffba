"""Member households (党员中心户), grid workers and their work: who holds which role and looks
after what (roles), binding codes (codes), tickets as tasks (tasks), care households and their
visit schedules (care, recurrence) and the visits themselves (visits).

Nothing here commits; the caller's transaction (a chat event's, a job's, a CLI command's) does.
"""
