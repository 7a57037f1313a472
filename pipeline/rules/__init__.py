"""The rules of the job, pure and made of data from schemas/: the form and its vocabularies
(spec), the townships, dates and working days, ID numbers, who a row is about (identity),
how 办理结果 is read (results), and when a case is 超期 (overdue). No I/O but schemas/."""
