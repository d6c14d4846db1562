"""The Genomics Reporting IG 3.0.0 operations over the stored reports: which tests a subject had,
whether it carries given variants or structural changes, its diagnostic and therapeutic
implications, and how many subjects of the population do.

Pure functions over store reads (store/reads.py, store/genomics.py): parameters in, a Parameters
resource out. The HTTP routes are api/genomics.py.

| module | holds |
|---|---|
| `definitions.py` | the IG's OperationDefinitions as a table: names, inputs, canonical URLs |
| `parameters.py` | GET query / POST Parameters -> checked inputs (names, types, cardinality) |
| `locate.py` | RefSeq ranges, and where a stored variant lies |
| `results.py` | one subject's reports and Observations, narrowed by the common filters |
| `subject.py` | the `$find-subject-*` and `$find-study-metadata` operations |
| `population.py` | the `$find-population-*` operations |
"""
