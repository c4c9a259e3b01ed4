"""The ledger (限制类技术备案台账): a hospital's techniques, one per row, each answered by decide().

- engine.ledger.sheet: read a ledger (xlsx or csv; columns named in Chinese, kb/register.yaml `ledger`)
  into one request per row, with the problems of the rows that cannot be read (in Chinese);
- engine.ledger.run: answer the rows (in process, or through engine.batch's worker processes for big
  ledgers), each row's class and verdict, and every act across techniques sorted by urgency;
- engine.ledger.output: the results workbook (the sheet written back, every act, the unreadable rows),
  CSV, the calendar of future due dates (ics) and the template to fill in.
"""
