"""Model-quality evaluation: prequential runs of the Processor against ground truth."""
