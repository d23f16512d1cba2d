"""The audit trail and its pages."""
