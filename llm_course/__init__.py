__version__ = "0.1.0"

# Importing the model registers it with transformers' Auto classes, so that after `import llm_course`,
# `AutoModelForCausalLM.from_pretrained(dir)` and `pipeline("text-generation", model=dir)` load our saved models.
from . import model as _model  # noqa: E402,F401
