"""Staff users, roles, passwords and logins."""
