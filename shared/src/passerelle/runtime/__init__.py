"""Process plumbing: settings, logging, auth, HTTP basics and the embedded servers."""
