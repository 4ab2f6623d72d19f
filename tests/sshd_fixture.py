"""Real OpenSSH sshd fixtures (being written)."""
