"""facts: How Do LLMs Acquire Factual Knowledge During Pretraining?"""
