"""Stage registry, params, runner, provenance, claims: the machinery every paper shares."""

from llmrepro.pipeline.params import DeclaredParams, PaperSection, ParamsError, Section, section
from llmrepro.pipeline.registry import Registry, load_registry
from llmrepro.pipeline.runner import StageContext
from llmrepro.pipeline.stage import Curve, Paper, RegistryError, Resources, Stage

__all__ = ["Curve", "DeclaredParams", "Paper", "PaperSection", "ParamsError", "Registry", "RegistryError",
           "Resources", "Section", "Stage", "StageContext", "load_registry", "section"]
