"""llmrepro: cached, auditable reproductions of NeurIPS 2024 LLM papers.

Importing the package sets the process environment that every stage and test
needs *before* torch is imported: OpenMP spin-waiting slows torch 6-20x as
soon as anything else shares the two cores, so it is switched off here, once.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")

# Every paper id with its title, in the order reports list them. `common`
# holds the shared upstream stages and `report` the cross-paper index.
TITLES: dict[str, str] = {
    "grm": "Regularizing Hidden States Enables Learning Generalizable Reward Model for LLMs",
    "in2": "Make Your LLM Fully Utilize the Context (IN2 training, VaL probing)",
    "freq": 'No "Zero-Shot" Without Exponential Data: Pretraining Concept Frequency Determines '
            "Multimodal Model Performance",
    "attngrad": "The Fine-Grained Complexity of Gradient Computation for Training Large Language Models",
    "sami": "Self-Supervised Alignment with Mutual Information",
    "tap": "Tree of Attacks with Pruning (benign secret-keeping targets only)",
    "hwgpt": "HW-GPT-Bench",
    "mspoe": "Found in the Middle: How Language Models Use Long Contexts Better via Plug-and-Play "
             "Positional Encoding (Ms-PoE)",
    "facts": "How Do Large Language Models Acquire Factual Knowledge During Pretraining?",
    "cherryq": "Cherry on Top: Parameter Heterogeneity and Quantization in Large Language Models (CherryQ)",
}
PAPERS: tuple[str, ...] = tuple(TITLES)
SECTIONS: tuple[str, ...] = ("common", *PAPERS)

__version__ = "0.1.0"
