__version__ = "0.1.0"

# After `import llm_course`, `AutoModelForCausalLM.from_pretrained(dir)` and `pipeline("text-generation", model=dir)`
# load our saved models. Registering them eagerly means importing llm_course.model, hence transformers'
# PreTrainedModel and torch (4-10 s), on every `import llm_course`: the CLI's `--help` would wait for it. So the
# registration is lazy: once transformers' table of configurations (configuration_auto.CONFIG_MAPPING) exists, a
# lookup of our model type in it imports llm_course.model, whose import registers the config and model classes.
import importlib, importlib.abc, importlib.util, sys

# model types -> the module whose import registers them (`GPTConfig.model_type`, `PrunedGPTConfig.model_type`)
MODEL_TYPES = {'llm_course_gpt': 'llm_course.model', 'llm_course_pruned_gpt': 'llm_course.pruning'}
_CONFIG_AUTO = 'transformers.models.auto.configuration_auto'

class _RegisterOnLookup(dict):
    "transformers' registered configurations, which import llm_course.model (registering it) when asked for ours"
    def _register(self, key):
        if key in MODEL_TYPES and not dict.__contains__(self, key): importlib.import_module(MODEL_TYPES[key])
    def __contains__(self, key):
        self._register(key)
        return dict.__contains__(self, key)
    def __getitem__(self, key):
        self._register(key)
        return dict.__getitem__(self, key)
    def get(self, key, default=None):
        self._register(key)
        return dict.get(self, key, default)

def _watch(config_auto):
    "Make lookups in `config_auto.CONFIG_MAPPING` register our model on first use"
    mapping = config_auto.CONFIG_MAPPING
    if not isinstance(mapping._extra_content, _RegisterOnLookup):
        mapping._extra_content = _RegisterOnLookup(mapping._extra_content)

class _WatchConfigAuto(importlib.abc.MetaPathFinder):
    "Import hook: runs `_watch` on transformers' configuration_auto module right after it executes"
    def find_spec(self, name, path, target=None):
        if name != _CONFIG_AUTO: return None
        sys.meta_path.remove(self)   # one module to watch; the other finders locate it
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None: return spec
        exec_module = spec.loader.exec_module
        def exec_and_watch(module):
            exec_module(module)
            _watch(module)
        spec.loader.exec_module = exec_and_watch
        return spec

if _CONFIG_AUTO in sys.modules: _watch(sys.modules[_CONFIG_AUTO])
elif not any(isinstance(f, _WatchConfigAuto) for f in sys.meta_path): sys.meta_path.insert(0, _WatchConfigAuto())
