"""Oracle and domain-gap studies (issue 7)."""
