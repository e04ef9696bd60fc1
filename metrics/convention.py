"""A P&R convention as one value: how distances are computed and how a sample is compared with a sphere.

On paper every convention below defines the same k-NN precision and recall; in a computation the
tie rule, the arithmetic dtype and the float16 rounding of some ports flip a few per-sample
decisions (the conventions report, metrics/conventions.py, counts them). A metric takes a
convention by name or as a value; `Convention.replace` derives a variant (e.g. prdc in float64).
"""
import dataclasses

RULES = ('<=', '<')  # '<=': official P&R (a sample on the sphere is inside); '<': prdc, ManifoldMetric
DTYPES = ('float32', 'float16', 'float64')
# 'squared': the official squared distances. 'euclidean_fp16': their square roots rounded to float16, the
# comparison quantity of the stylegan2-ada-pytorch / mmagic family (torch.cdist on float16 features).
DISTANCES = ('squared', 'euclidean_fp16')
# 'refuse': float16 arithmetic that overflows is an error (the numbers would be wrong). 'count': the distances
# are used as computed (inf, NaN), as NVIDIA's pr50k3 code does, and the run reports how many were not finite.
# 'float32_block': OpenAI's ADM evaluator (metrics/adm_pr.py): a 10,000 x 10,000 block with a non-finite float16
# distance is recomputed in float32, on the evaluator's block grid and orientation (k = 3 membership only).
OVERFLOWS = ('refuse', 'count', 'float32_block')


@dataclasses.dataclass(frozen=True)
class Convention:
    """name: how reports call it. rule: '<=' or '<' (see RULES). dtype: distance arithmetic (DTYPES).
    distance: see DISTANCES (euclidean_fp16 only with float32). exact_ties: distances as a pure function of
    the two vectors (symmetric order, exactly 0 between identical rows; see DistanceBlock), so that ties on
    paper are ties in the computation (prdc semantics on duplicated data); False keeps the official
    evaluation order. round_inputs: features rounded to float16 first (the float16-feature ports).
    used_by: who computes P&R this way.
    """
    name: str
    rule: str = '<='
    dtype: str = 'float32'
    distance: str = 'squared'
    exact_ties: bool = False
    round_inputs: bool = False
    overflow: str = 'refuse'
    used_by: str = ''

    def __post_init__(self):
        if self.rule not in RULES:
            raise ValueError("rule must be '<' (prdc) or '<=' (official P&R), got %r" % (self.rule,))
        if self.dtype not in DTYPES:
            raise ValueError('dtype must be one of %s, got %r' % (DTYPES, self.dtype))
        if self.distance not in DISTANCES or (self.distance != 'squared' and self.dtype != 'float32'):
            raise ValueError('distance must be one of %s (euclidean_fp16 with dtype float32), got %r'
                             % (DISTANCES, self.distance))
        if self.overflow not in OVERFLOWS or (self.overflow != 'refuse' and self.dtype != 'float16'):
            raise ValueError("overflow must be one of %s (all but 'refuse' with dtype float16), got %r"
                             % (OVERFLOWS, self.overflow))

    @property
    def strict(self):
        """True for the '<' rule."""
        return self.rule == '<'

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


OFFICIAL = Convention('official', used_by='kynkaat official TF (since 2021-10-25); torch-fidelity prc')
CONVENTIONS = {c.name: c for c in [
    OFFICIAL,
    Convention('official_fp16', dtype='float16',
               used_by='kynkaat official TF before 2021-10-25 (float16 inputs, distances and radii)'),
    Convention('strict', rule='<', used_by='prdc, dgm-eval, emergent-asymmetry ManifoldMetric'),
    Convention('euclidean_fp16', distance='euclidean_fp16', round_inputs=True,
               used_by='stylegan2-ada-pytorch compute_pr, mmagic, PyTorch ports of the ADM evaluator (emulated: '
                       'float16 features, Euclidean distances and radii rounded to float16)'),
    # NVIDIA's pr50k3 (NVlabs/stylegan2 metrics/precision_recall.py): the pre-2021 float16 arithmetic, with
    # overflowed distances used as computed (inf, NaN) instead of refused.
    Convention('nvidia_fp16', dtype='float16', overflow='count',
               used_by='NVlabs/stylegan2 pr50k3 (float16 features, distances and radii; overflow kept and counted)'),
    Convention('adm', dtype='float16', overflow='float32_block',
               used_by='OpenAI ADM evaluator (guided-diffusion evaluations/evaluator.py): float16 blocks of 10,000 '
                       'with a float32 fallback per block, reference rows x sample columns, k = 3'),
    # The strict rule with ties exact: what prdc and ManifoldMetric compute on data with duplicated rows.
    Convention('prdc', rule='<', exact_ties=True, used_by='prdc density/coverage, emergent-asymmetry symmetric P&R'),
]}
REPORTED = ('official', 'official_fp16', 'strict', 'euclidean_fp16')  # the rows of the conventions report


def convention(name_or_value):
    """A Convention given by name (see CONVENTIONS), as a value, or as a distance dtype (see DTYPES: the official
    convention in that dtype)."""
    if isinstance(name_or_value, Convention):
        return name_or_value
    if name_or_value in DTYPES:
        return official(name_or_value)
    if name_or_value not in CONVENTIONS:
        raise ValueError('unknown convention or distance dtype %r; conventions: %s; dtypes: %s'
                         % (name_or_value, ', '.join(CONVENTIONS), ', '.join(DTYPES)))
    return CONVENTIONS[name_or_value]


def official(dtype='float32'):
    """The official convention in `dtype` ('float16': the pre-2021 official code)."""
    return CONVENTIONS['official_fp16'] if dtype == 'float16' else OFFICIAL.replace(dtype=dtype)


def resolve(name=None, dtype=None):
    """The convention a run asks for: `name` (see CONVENTIONS; None: official), or the official convention in
    `dtype` (the --dtype shorthand). ValueError when both are given and name is not 'official'."""
    if name is None or name == 'official':
        return official(dtype or 'float32')
    if dtype is not None:
        raise ValueError("give --convention %s or --dtype %s, not both: --dtype selects the official convention's "
                         "precision (the named conventions fix their own)" % (name, dtype))
    return convention(name)


def array_dtype(dtype):
    """The NumPy dtype name feature and distance arrays are held in for distance arithmetic `dtype`: float64 for
    float64, else float32 (float16 values are held exactly in float32)."""
    return 'float64' if dtype == 'float64' else 'float32'
