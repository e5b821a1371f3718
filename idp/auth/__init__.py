"""Who is at the keyboard: password checks, brute-force lockout and the login session."""
