"""`python -m engine.flowchart ...` = `medtech flowchart ...`."""
from engine.flowchart.cli import main

main()
