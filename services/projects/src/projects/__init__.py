"""The projects service: territories, development projects and their needs, pledges."""
