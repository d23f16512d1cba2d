"""The plugin contract (core.testing.contract) for training: migrations, demo data, no 500, no English,
scoping (the lecturers are a pool every unit reads: plugins/training/views.py, LecturerInterface)."""

from core.testing import contract_tests

globals().update(contract_tests("training", shared_reads=("Lecturer",)))
