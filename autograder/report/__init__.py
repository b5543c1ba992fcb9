"""Report writers: each turns one ``GradeResult`` into one format."""
