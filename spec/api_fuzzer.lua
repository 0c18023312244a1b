--- A fuzzer of the Lua API. It enumerates every public function of `cnn`
-- (cnn.core, cnn.ops and cnn.datasets included) and the methods and
-- metamethods of the objects they make (tensors, layers, Chains,
-- optimisers, loaders), and calls them with random mixes of arguments:
-- nil, booleans, numbers (0, -1, 0.5, NaN, ±inf, huge, math.mininteger),
-- strings, empty and odd tables, functions, tensors of every kind (empty,
-- 0-dim, Int32, views, blocked, freed), layers and optimisers; half of the
-- calls start from a valid call and replace some of its arguments.
--
-- Each call is Lua source generated from (seed, index) alone, so a failure
-- is reported as the seed, the index and the source to run. Calls run in
-- child processes (`cnnlua api_fuzzer.lua worker ...`) in a temporary
-- folder, which also holds a tiny fake MNIST for cnn.datasets, so:
--
-- - a crash (segfault, abort, a sanitizer report) ends the child: the
--   call it was running is reported, and the run goes on after it;
-- - a call that runs past `timeout` seconds is reported as a hang;
-- - an error must be a string that starts with the name of the function
--   called (`ADAM: ...`, `Dense(3 => 2): ...`, or Lua's "bad argument #1
--   to 'zeros'" for a C function) and has no position inside the library
--   and no raw Lua error (`attempt to index a nil value`) in it;
-- - a call may allocate at most 64 MiB of tensors.
--
-- Used by spec/api_fuzz_spec.lua (a short run) and scripts/fuzz-api (as
-- long a run as asked).
-- @module api_fuzzer

local fuzzer = {}

--- Tensor bytes one call may allocate.
fuzzer.MAX_BYTES = 64 * 1024 * 1024

-- Values --------------------------------------------------------------

local FREED = "(function() local t = cnn.ones(2, 3) t:free() return t end)()"
local BLOCKED = "cnn.conv2d(cnn.rand(5, 5, 1, 2), cnn.rand(3, 3, 1, 16), nil, {pad = 1})"

--- Arguments, as Lua expressions, by kind; a value is drawn by picking a
-- kind, then an expression of it.
fuzzer.values = {
  scalars = {
    "nil", "true", "false", "0", "1", "-1", "0.5", "2", "3", "28", "1.5", "-0.0", "0/0",
    "math.huge", "-math.huge", "1e300", "2^53", "1 << 40", "math.maxinteger", "math.mininteger",
  },
  strings = {
    '""', '"x"', '"relu"', '"max"', '"mean"', '"int32"', '"float32"', '"same"', '"train"', '"test"',
    '"auto"', '"bar"', '"lines"', '"none"', '"fuzz.safetensors"', '"fuzz.svg"', '"/nonexistent/x"', '"%s%d"',
  },
  tables = {
    "{}", "{{}}", "{1, 2}", "{3}", "{2, 3}", "{3, 2}", "{1, nil, 3}", "{0.9, 0.999}", "{0.9}",
    "{-1, 2}", '{"a", "b"}', "{a = 1}", "{0, 1, 2}", "{0/0, 1}", "{28, 28, 1, 1}", "{3, 1}",
    "{1 << 40, 1 << 40}", "{batchsize = 2}", "{batchsize = 0}", "{shuffle = 'yes'}", "{pad = 1}",
    "{pad = 'same'}", "{stride = 0}", "{outpad = 1}", "{bias = false}", "{init = 5}", "{cb = 5}",
    "{progress = false}", "{gain = 'x'}", "{momentum = 2}", "{window = 2}", "{copy = true}",
    "setmetatable({}, {__index = function() error('fuzz: user error') end})",
    "{cnn.ones(3)}", "{{cnn.rand(3, 2), cnn.rand(2, 2)}}",
  },
  functions = {
    "function() end", "function(...) return ... end", "function() error('fuzz: user error') end",
    "function() return 1 end", "function() return cnn.ones(2) end", "cnn.relu", "cnn.softmax",
    "coroutine.create(function() end)",
  },
  tensors = {
    "cnn.rand(2, 3)", "cnn.zeros(0)", "cnn.zeros(0, 3)", "cnn.zeros(3, 3, 1, 0)", "cnn.tensor(5)",
    "cnn.zeros(3, 'int32')", "cnn.tensor({0, 1, 12}, 'int32')", "cnn.rand(3, 4)", "cnn.rand(3, 2)",
    "cnn.rand(4, 4, 1, 2)", "cnn.rand(5, 5, 2, 3)", "cnn.range(0, 9)", "cnn.ones(3)",
    "cnn.ones(1, 1, 1, 1, 1, 1, 1, 2)", FREED, "cnn.rand(3, 4):slice(1, 1, 2)",
    "cnn.rand(3, 4):select(1, 2)", BLOCKED, "cnn.onehotbatch({0, 1, 2}, {0, 1, 2})",
    "cnn.rand(10, 3)", "cnn.rand(28, 28, 1, 3)", "cnn.fill(0/0, 3, 3)", "cnn.fill(math.huge, 2, 2)",
  },
  objects = {
    "cnn.Dense(3, 2)", "cnn.Chain(cnn.Dense(3, 2), cnn.softmax)", "cnn.Conv({3, 3}, 1, 2, cnn.relu)",
    "cnn.MaxPool(2)", "cnn.BatchNorm(2)", "cnn.LayerNorm(3)", "cnn.GroupNorm(4, 2)",
    "cnn.Dropout(0.5)", "cnn.Flatten()", "cnn.ADAM()",
    "cnn.Descent(0.1)", "cnn.params(cnn.Dense(3, 2))",
    "cnn.DataLoader(cnn.rand(3, 5), cnn.rand(2, 5), {batchsize = 2})",
    "cnn.ncycle({{cnn.rand(3, 2), cnn.rand(2, 2)}}, 2)",
    "cnn.profile_report(function() end)",
  },
}

local value_kinds = {"scalars", "strings", "tables", "functions", "tensors", "objects"}

-- What a user does with an optimiser besides printing it: change a
-- hyperparameter, then step; `%s` are random values.
local OPTIMISER_STATEMENTS = {
  "o.eta = %s local r = cnn.update(o, cnn.ones(3), cnn.ones(3))",
  "o.beta = %s local r = cnn.update(o, cnn.ones(3), cnn.ones(3))",
  "o.rho = %s local r = cnn.update(o, cnn.ones(3), cnn.ones(3))",
  "o.eps = %s local r = cnn.update(o, cnn.ones(3), cnn.ones(3))",
  "local w = cnn.ones(3) local r = cnn.update(o, {w}, {[w] = %s})",
  "local r = cnn.update(o, %s, %s)",
}

-- Receivers: objects whose methods and metamethods are called;
-- `statements` (optional) are more things done with them. `kind` is
-- the name their errors start with, `names` (optional) those of the ops
-- a call of the object runs (a Dense layer whose weight was freed is
-- refused by its op, dense); `input`, when given, a valid argument of a
-- call of the object.
fuzzer.receivers = {
  {kind = "tensor", src = "cnn.rand(2, 3)"},
  {kind = "tensor", src = "cnn.rand(4, 4, 1, 2)"},
  {kind = "tensor", src = "cnn.tensor({0, 1, 2}, 'int32')"},
  {kind = "tensor", src = "cnn.tensor(5)"},
  {kind = "tensor", src = "cnn.zeros(0, 3)"},
  {kind = "tensor", src = "cnn.rand(3, 4):slice(1, 1, 2)"},
  {kind = "tensor", src = BLOCKED},
  {kind = "tensor", src = FREED},
  {kind = "Dense", names = {"dense"}, src = "cnn.Dense(3, 2)", input = "cnn.rand(3, 4)"},
  {kind = "Dense", names = {"dense"}, src = "cnn.Dense(3, 2, cnn.sigmoid, {bias = false})", input = "cnn.rand(3)"},
  {kind = "Dense", names = {"dense"}, src = "(function() local d = cnn.Dense(3, 2) d.weight:free() return d end)()",
   input = "cnn.rand(3, 4)"},
  {kind = "Conv", names = {"conv2d"}, src = "cnn.Conv({3, 3}, 1, 2, cnn.relu, {pad = 1})",
   input = "cnn.rand(5, 5, 1, 2)"},
  {kind = "Conv", names = {"conv2d"}, src = "cnn.Conv({3, 3}, 4, 4, cnn.relu, {pad = 1, groups = 4})",
   input = "cnn.rand(5, 5, 4, 2)"},
  {kind = "ConvTranspose", names = {"deconv2d"},
   src = "cnn.ConvTranspose({3, 3}, 2, 1, cnn.relu, {stride = 2, pad = 1, outpad = 1})",
   input = "cnn.rand(4, 4, 2, 2)"},
  {kind = "DepthwiseConv", names = {"conv2d"}, src = "cnn.DepthwiseConv({3, 3}, 2, 4, {pad = 1})",
   input = "cnn.rand(5, 5, 2, 2)"},
  {kind = "MaxPool", names = {"pool2d"}, src = "cnn.MaxPool({2, 2})", input = "cnn.rand(4, 4, 1, 2)"},
  {kind = "MeanPool", names = {"pool2d"}, src = "cnn.MeanPool(2, {pad = 1})", input = "cnn.rand(4, 4, 1, 2)"},
  {kind = "GlobalMaxPool", names = {"pool2d"}, src = "cnn.GlobalMaxPool()", input = "cnn.rand(4, 4, 1, 2)"},
  {kind = "GlobalMeanPool", names = {"pool2d"}, src = "cnn.GlobalMeanPool()", input = "cnn.rand(4, 4, 1, 2)"},
  {kind = "AdaptiveMaxPool", names = {"adaptive_pool2d"}, src = "cnn.AdaptiveMaxPool({3, 2})",
   input = "cnn.rand(5, 4, 1, 2)"},
  {kind = "AdaptiveMeanPool", names = {"pool2d"}, src = "cnn.AdaptiveMeanPool({2, 2})",
   input = "cnn.rand(4, 4, 1, 2)"},
  {kind = "Upsample", names = {"resample"}, src = "cnn.Upsample('nearest', {scale = 2})",
   input = "cnn.rand(3, 2, 1, 2)"},
  {kind = "Upsample", names = {"resample"}, src = "cnn.Upsample('bilinear', {size = {5, 3}})",
   input = "cnn.rand(3, 2, 1, 2)"},
  {kind = "Embedding", names = {"matmul"}, src = "cnn.Embedding(5, 3)",
   input = "cnn.tensor({{1, 5}, {2, 2}}, 'int32')"},
  {kind = "Dropout", names = {"dropout"}, src = "cnn.Dropout(0.5)", input = "cnn.rand(3, 4)"},
  {kind = "BatchNorm", names = {"batchnorm"}, src = "cnn.BatchNorm(2, cnn.relu)", input = "cnn.rand(3, 3, 2, 4)"},
  {kind = "LayerNorm", names = {"layernorm"}, src = "cnn.LayerNorm(3, cnn.relu)", input = "cnn.rand(3, 4)"},
  {kind = "LayerNorm", names = {"layernorm"}, src = "cnn.LayerNorm({3, 3, 2}, {affine = false})",
   input = "cnn.rand(3, 3, 2, 4)"},
  {kind = "GroupNorm", names = {"groupnorm"}, src = "cnn.GroupNorm(4, 2, cnn.relu)",
   input = "cnn.rand(3, 3, 4, 2)"},
  {kind = "InstanceNorm", names = {"groupnorm"},
   src = "cnn.InstanceNorm(2, {affine = true})", input = "cnn.rand(3, 3, 2, 2)"},
  {kind = "Flatten", src = "cnn.Flatten()", input = "cnn.rand(2, 2, 1, 3)"},
  {kind = "Chain", names = {"conv2d_relu_maxpool"},
   src = "cnn.Chain(cnn.Conv({3, 3}, 1, 2, cnn.relu), cnn.MaxPool({2, 2}), "
     .. "cnn.flatten, cnn.Dense(2, 3), cnn.softmax)", input = "cnn.rand(4, 4, 1, 2)"},
  {kind = "Chain", src = "cnn.Chain(cnn.Dense(3, 3), cnn.Chain(cnn.Dropout(0.5), cnn.Dense(3, 2)))",
   input = "cnn.rand(3, 2)"},
  {kind = "Descent", statements = OPTIMISER_STATEMENTS, src = "cnn.Descent(0.1)"},
  {kind = "Momentum", statements = OPTIMISER_STATEMENTS, src = "cnn.Momentum()"},
  {kind = "Nesterov", statements = OPTIMISER_STATEMENTS, src = "cnn.Nesterov()"},
  {kind = "RMSProp", statements = OPTIMISER_STATEMENTS, src = "cnn.RMSProp()"},
  {kind = "ADAM", statements = OPTIMISER_STATEMENTS, src = "cnn.ADAM()"},
  {kind = "AdamW", statements = OPTIMISER_STATEMENTS, src = "cnn.AdamW(0.001, {0.9, 0.999}, 0.01)"},
  {kind = "AdaGrad", statements = OPTIMISER_STATEMENTS, src = "cnn.AdaGrad()"},
  {kind = "AdaDelta", statements = OPTIMISER_STATEMENTS, src = "cnn.AdaDelta()"},
  {kind = "AMSGrad", statements = OPTIMISER_STATEMENTS, src = "cnn.AMSGrad()"},
  {kind = "NAdam", statements = OPTIMISER_STATEMENTS, src = "cnn.NAdam()"},
  {kind = "RAdam", statements = OPTIMISER_STATEMENTS, src = "cnn.RAdam(cnn.Exp(0.01, 0.9))"},
  {kind = "AdaMax", statements = OPTIMISER_STATEMENTS, src = "cnn.AdaMax()"},
  {kind = "AdaBelief", statements = OPTIMISER_STATEMENTS, src = "cnn.AdaBelief()"},
  {kind = "Lion", statements = OPTIMISER_STATEMENTS, src = "cnn.Lion()"},
  {kind = "ClipNorm", statements = OPTIMISER_STATEMENTS, src = "cnn.ClipNorm(1.0)"},
  {kind = "OptimiserChain", statements = OPTIMISER_STATEMENTS,
   src = "cnn.OptimiserChain(cnn.ClipNorm(1.0), cnn.WeightDecay(1e-4), cnn.ADAM(cnn.Cos(1e-3, 1e-5, 10)))"},
  {kind = "Cos", src = "cnn.Cos(1e-3, 1e-5, 10)"},
  {kind = "OneCycle", src = "cnn.OneCycle(10, 0.1)"},
  {kind = "DataLoader", src = "cnn.DataLoader(cnn.rand(3, 5), cnn.rand(2, 5), {batchsize = 2})"},
  {kind = "DataLoader", src = "cnn.DataLoader({cnn.rand(3, 5), {cnn.rand(2, 5)}}, {shuffle = true})"},
  {kind = "ncycle", src = "cnn.ncycle(cnn.DataLoader(cnn.rand(3, 5), {batchsize = 2}), 2)"},
  {kind = "throttle", src = "cnn.throttle(function(...) return ... end, 0)"},
  {kind = "EarlyStopping", names = {"stop"},
   src = "cnn.EarlyStopping(function() return 1 end, {patience = 1})"},
  {kind = "Checkpointer", src = "cnn.Checkpointer('.', {model = cnn.Dense(3, 2), opt = cnn.ADAM(), keep = 1})"},
  {kind = "twice", names = {"mul"},
   src = "cnn.op{name = 'twice', forward = function(ctx, x) return cnn.core.mul(x, 2) end, "
     .. "backward = function(ctx, gy) return cnn.core.mul(gy, 2) end}"},
}

--- Valid calls of public functions, by name: `args` are expressions,
-- `setup` (optional) statements before the call. A call drawn from a
-- template has one or two of its arguments replaced.
fuzzer.templates = {
  zeros = {args = {"2", "3"}}, ones = {args = {"{2, 3}"}}, rand = {args = {"3", "2"}},
  randn = {args = {"3"}}, fill = {args = {"1.5", "2", "2"}}, tensor = {args = {"{{1, 2}, {3, 4}}"}},
  range = {args = {"0", "9"}}, seed = {args = {"7"}},
  matmul = {args = {"cnn.rand(2, 3)", "cnn.rand(3, 4)"}}, transpose = {args = {"cnn.rand(2, 3)"}},
  isapprox = {args = {"cnn.ones(2)", "cnn.ones(2)", "0.1"}},
  sum = {args = {"cnn.rand(2, 3)", "2"}}, mean = {args = {"cnn.rand(2, 3)", "1"}},
  maximum = {args = {"cnn.rand(2, 3)", "1"}}, minimum = {args = {"cnn.rand(2, 3)"}},
  max = {args = {"cnn.rand(2, 3)", "cnn.rand(2, 1)"}}, min = {args = {"cnn.rand(2, 3)", "0.5"}},
  argmax = {args = {"cnn.rand(2, 3)", "1"}}, argmin = {args = {"cnn.rand(2, 3)"}},
  reshape = {args = {"cnn.rand(2, 3)", "3", "-1"}}, flatten = {args = {"cnn.rand(2, 2, 1, 3)"}},
  exp = {args = {"cnn.rand(2)"}}, log = {args = {"cnn.rand(2)"}},
  conv2d = {args = {"cnn.rand(5, 5, 1, 2)", "cnn.rand(3, 3, 1, 4)", "cnn.zeros(4)", "{pad = 1}"}},
  deconv2d = {args = {"cnn.rand(4, 4, 2, 2)", "cnn.rand(3, 3, 4, 2)", "cnn.zeros(4)",
                      "{stride = 2, pad = 1, outpad = 1, groups = 1}"}},
  pool2d = {args = {'"max"', "cnn.rand(4, 4, 1, 2)", "{window = 2}"}},
  qnet_new = {args = {"4", "1", "true"}},
  qnet_conv = {setup = "local net = cnn.core.qnet_new(4, 1, true)",
               args = {"net", '"Conv"', "cnn.rand(3, 3, 1, 2)", "cnn.zeros(2)", "{pad = 1}", "2", "true"}},
  qnet_pool = {setup = "local net = cnn.core.qnet_new(4, 1, true)",
               args = {"net", '"MaxPool"', '"max"', "{window = 2}"}},
  qnet_flatten = {setup = "local net = cnn.core.qnet_new(4, 1, true)", args = {"net", '"flatten"'}},
  qnet_dense = {setup = "local net = cnn.core.qnet_new(2, 1, true)",
                args = {"net", '"Dense"', "cnn.rand(3, 4)", "cnn.zeros(3)", "true"}},
  qnet_softmax = {setup = "local net = cnn.core.qnet_new(2, 1, true) "
                    .. "cnn.core.qnet_dense(net, 'Dense', cnn.rand(3, 4), nil, false)",
                  args = {"net", '"softmax"'}},
  qnet_forward = {setup = "local net = cnn.core.qnet_new(2, 1, true) "
                    .. "cnn.core.qnet_dense(net, 'Dense', cnn.rand(3, 4), nil, false)",
                  args = {"net", "cnn.rand(4, 5)"}},
  qnet_info = {setup = "local net = cnn.core.qnet_new(2, 1, true)", args = {"net"}},
  abs_quantile = {args = {"cnn.randn(5, 4)", "0.9"}},
  conv2d_relu_maxpool = {args = {"cnn.rand(5, 5, 1, 2)", "cnn.rand(3, 3, 1, 4)", "cnn.zeros(4)", "{pad = 1}",
                                 "{window = 2}"}},
  dense = {args = {"cnn.rand(3, 4)", "cnn.rand(2, 3)", "cnn.zeros(2)"}},
  resample = {args = {'"bilinear"', "cnn.rand(3, 2, 1, 2)", "{5, 4}"}},
  adaptive_pool2d = {args = {'"max"', "cnn.rand(5, 4, 1, 2)", "{3, 2}"}},
  embedding = {args = {"cnn.rand(3, 5)", "cnn.tensor({1, 5, 2}, 'int32')"}},
  batchnorm = {args = {"cnn.rand(3, 2)", "cnn.ones(3)", "cnn.zeros(3)", "cnn.zeros(3)", "cnn.ones(3)",
                       "true", "0.1", "1e-5"}},
  layernorm = {args = {"cnn.rand(3, 2)", "1", "cnn.ones(3)", "cnn.zeros(3)", "1e-5"}},
  groupnorm = {args = {"cnn.rand(3, 3, 4, 2)", "2", "cnn.ones(4)", "cnn.zeros(4)", "1e-5"}},
  dropout = {args = {"cnn.rand(3, 4)", "0.5", "true"}},
  relu = {args = {"cnn.rand(3)"}}, leakyrelu = {args = {"cnn.rand(3)", "0.1"}},
  elu = {args = {"cnn.rand(3)", "1"}}, softmax = {args = {"cnn.rand(3, 2)"}},
  logsoftmax = {args = {"cnn.rand(3, 2)"}}, logsigmoid = {args = {"cnn.rand(3)"}},
  crossentropy = {args = {"cnn.softmax(cnn.rand(3, 2))", "cnn.onehotbatch({0, 2}, {0, 1, 2})"}},
  logitcrossentropy = {args = {"cnn.rand(3, 2)", "cnn.onehotbatch({0, 2}, {0, 1, 2})", "{dims = 1, agg = 'mean'}"}},
  mse = {args = {"cnn.rand(3, 2)", "cnn.rand(3, 2)"}},
  binarycrossentropy = {args = {"cnn.rand(3)", "cnn.rand(3)"}},
  logitbinarycrossentropy = {args = {"cnn.rand(3)", "cnn.rand(3)", "{agg = 'sum'}"}},
  identity = {args = {"cnn.rand(3)"}}, copy = {args = {"cnn.zeros(2, 3)", "cnn.rand(2, 3)"}},
  swish = {args = {"cnn.rand(3)"}}, mish = {args = {"cnn.rand(3)"}}, relu6 = {args = {"cnn.rand(3)"}},
  hardsigmoid = {args = {"cnn.rand(3)"}}, selu = {args = {"cnn.rand(3)"}}, celu = {args = {"cnn.rand(3)", "0.5"}},
  softsign = {args = {"cnn.rand(3)"}}, hardtanh = {args = {"cnn.rand(3)", "-0.5", "0.5"}},
  mae = {args = {"cnn.rand(3, 2)", "cnn.rand(3, 2)", "{agg = 'sum'}"}},
  huber_loss = {args = {"cnn.rand(3, 2)", "cnn.rand(3, 2)", "{delta = 0.5}"}},
  kldivergence = {args = {"cnn.softmax(cnn.rand(3, 2))", "cnn.softmax(cnn.rand(3, 2))", "{dims = 1}"}},
  focal_loss = {args = {"cnn.softmax(cnn.rand(3, 2))", "cnn.onehotbatch({0, 2}, {0, 1, 2})", "{gamma = 1}"}},
  binary_focal_loss = {args = {"cnn.rand(3)", "cnn.rand(3)", "{gamma = 2}"}},
  hinge_loss = {args = {"cnn.rand(3, 2)", "cnn.rand(3, 2)"}},
  squared_hinge_loss = {args = {"cnn.rand(3, 2)", "cnn.rand(3, 2)", "{agg = 'mean'}"}},
  cat = {args = {"cnn.rand(2, 3)", "cnn.rand(2, 1)", "{dims = 2}"}},
  flip = {args = {"cnn.rand(2, 3)", "{1, 2}"}}, pad = {args = {"cnn.rand(2, 3)", "{1, 0, 2, 1}", "0.5"}},
  repeat_ = {args = {"cnn.rand(2, 3)", "2", "1", "2"}},
  loadparams = {args = {"cnn.Dense(3, 2)", "cnn.params(cnn.Dense(3, 2))"}},
  glorot_uniform = {args = {"3", "2", "{gain = 2}"}}, glorot_normal = {args = {"{3, 2}"}},
  kaiming_uniform = {args = {"3", "3", "1", "2"}}, kaiming_normal = {args = {"3", "2"}},
  zeros_init = {args = {"3"}}, ones_init = {args = {"3"}},
  Chain = {args = {"cnn.Dense(3, 2)", "cnn.softmax"}},
  Conv = {args = {"{3, 3}", "2", "4", "cnn.relu", "{pad = 1, stride = 1, groups = 2}"}},
  ConvTranspose = {args = {"{3, 3}", "4", "2", "cnn.relu", "{pad = 1, stride = 2, outpad = 1, groups = 2}"}},
  DepthwiseConv = {args = {"{3, 3}", "2", "4", "cnn.relu", "{pad = 1, stride = 1}"}},
  MaxPool = {args = {"{2, 2}", "{stride = 1}"}}, MeanPool = {args = {"2", "{pad = 1}"}},
  Dense = {args = {"3", "2", "cnn.relu", "{bias = false}"}}, Dropout = {args = {"0.5"}},
  Upsample = {args = {'"bilinear"', "{scale = {2, 3}}"}}, AdaptiveMaxPool = {args = {"{3, 2}"}},
  AdaptiveMeanPool = {args = {"{1, 1}"}}, Embedding = {args = {"5", "3", "{init = cnn.randn}"}},
  BatchNorm = {args = {"4", "cnn.relu", "{momentum = 0.1, eps = 1e-5}"}},
  LayerNorm = {args = {"{3, 2}", "cnn.relu", "{affine = true, eps = 1e-5}"}},
  GroupNorm = {args = {"4", "2", "cnn.relu", "{affine = true, eps = 1e-5, track_stats = false}"}},
  InstanceNorm = {args = {"4", "cnn.relu", "{affine = true, eps = 1e-5, track_stats = false}"}},
  params = {args = {"cnn.Dense(3, 2)"}}, trainmode = {args = {"cnn.Dropout(0.5)", "true"}},
  testmode = {args = {"cnn.Dropout(0.5)"}},
  summary = {args = {"cnn.Chain(cnn.Dense(3, 2))", "{3, 4}"}},
  outputsize = {args = {"cnn.Dense(3, 2)", "{3, 4}"}},
  Descent = {args = {"0.1"}}, Momentum = {args = {"0.01", "0.9"}}, Nesterov = {args = {"0.01", "0.9"}},
  RMSProp = {args = {"0.001", "0.9", "1e-8"}}, ADAM = {args = {"0.001", "{0.9, 0.999}", "1e-8"}},
  Adam = {args = {"0.01"}}, AdamW = {args = {"0.001", "{0.9, 0.999}", "0.01", "1e-8"}},
  ADAMW = {args = {"0.001"}},
  AdaGrad = {args = {"0.1", "1e-8"}}, AdaDelta = {args = {"0.9", "1e-8"}},
  AMSGrad = {args = {"0.001", "{0.9, 0.999}", "1e-8"}}, NAdam = {args = {"0.001", "{0.9, 0.999}", "1e-8"}},
  RAdam = {args = {"cnn.Cos(1e-3, 1e-5, 10)", "{0.9, 0.999}", "1e-8"}},
  AdaMax = {args = {"0.001", "{0.9, 0.999}", "1e-8"}}, AdaBelief = {args = {"0.001", "{0.9, 0.999}", "1e-16"}},
  Lion = {args = {"0.001", "{0.9, 0.999}"}}, ClipGrad = {args = {"10"}}, ClipNorm = {args = {"10", "2"}},
  WeightDecay = {args = {"5e-4"}},
  OptimiserChain = {args = {"cnn.ClipNorm(1.0)", "cnn.WeightDecay(1e-4)", "cnn.ADAM()"}},
  Step = {args = {"0.1", "0.5", "10"}}, Exp = {args = {"0.1", "0.9"}}, Cos = {args = {"1e-3", "1e-5", "100", "true"}},
  Linear = {args = {"0", "1e-3", "10"}}, Warmup = {args = {"cnn.Exp(0.1, 0.9)", "5"}},
  OneCycle = {args = {"100", "0.1", "{startval = 0.004, endval = 1e-6, percent_start = 0.25}"}},
  is_schedule = {args = {"cnn.Exp(0.1, 0.9)"}},
  schedule = {args = {"cnn.ADAM()", "{eta = cnn.Exp(0.1, 0.9)}", "{every = 'pass'}"}},
  advance = {args = {"cnn.schedule(cnn.ADAM(), {eta = cnn.Exp(0.1, 0.9)}, {every = 'pass'})"}},
  update = {setup = "local m = cnn.Dense(3, 2) local ps = cnn.params(m) "
              .. "local gs = cnn.gradient(function() return cnn.sum(m(cnn.ones(3))) end, ps)",
            args = {"cnn.ADAM()", "ps", "gs"}},
  gradient = {setup = "local w = cnn.rand(3)", args = {"function() return cnn.sum(w * w) end", "{w}"}},
  withgradient = {args = {"function(x) return cnn.sum(x) end", "cnn.rand(3)"}},
  item = {args = {"cnn.tensor(5)"}},
  op = {args = {"{name = 'twice', forward = function(ctx, x) return x * 2 end, "
                .. "backward = function(ctx, gy) return gy * 2 end}"}},
  onehot = {args = {"2", "cnn.range(0, 9)"}}, onehotbatch = {args = {"{1, 2}", "{0, 1, 2}"}},
  onecold = {args = {"cnn.rand(3, 2)", "{0, 1, 2}"}},
  DataLoader = {args = {"cnn.rand(3, 5)", "cnn.rand(2, 5)", "{batchsize = 2, shuffle = true}"}},
  ncycle = {args = {"{{cnn.rand(3, 2), cnn.rand(2, 2)}}", "2"}},
  train = {setup = "local m = cnn.Dense(3, 2)",
           args = {"function(x, y) return cnn.mse(m(x), y) end", "cnn.params(m)",
                   "{{cnn.rand(3, 4), cnn.rand(2, 4)}}", "cnn.Descent(0.1)", "{progress = false}"}},
  quantize = {args = {"cnn.Chain(cnn.Conv({3, 3}, 1, 2, cnn.relu), cnn.flatten, cnn.Dense(18, 3), cnn.softmax)",
                      "cnn.rand(5, 5, 1, 4)", "{percentile = 99, batchsize = 3}"}},
  accuracy = {args = {"cnn.Dense(3, 3)", "cnn.rand(3, 5)", "{0, 1, 2, 0, 1}", "{0, 1, 2}", "2"}},
  confusion = {args = {"cnn.Dense(3, 3)", "cnn.rand(3, 5)", "cnn.tensor({0, 1, 2, 0, 1}, 'int32')",
                       "cnn.range(0, 2)", "2"}},
  throttle = {args = {"function() end", "1"}}, time = {args = {"function(x) return x end", "1"}},
  show = {args = {'"x"', "1"}}, repr = {args = {"{1, 2}"}}, help = {args = {"cnn.Dense"}},
  imagestring = {args = {"cnn.rand(4, 3)"}}, showimage = {args = {"cnn.rand(4, 3, 1, 1)"}},
  profile = {args = {"function() return cnn.ones(2) + 1 end"}},
  precision = {args = {'"bf16"', "function() return cnn.ones(2) + 1 end"}},
  profile_report = {args = {"function() end"}},
  profile_text = {args = {"cnn.profile_report(function() end)"}},
  threads = {args = {"2"}}, adaptive_threads = {args = {"true"}},
  savemodel = {args = {'"fuzz.safetensors"', "cnn.Dense(3, 2)"}},
  loadmodel = {setup = 'cnn.savemodel("fuzz.safetensors", cnn.Dense(3, 2))',
               args = {'"fuzz.safetensors"', "cnn.Dense(3, 2)"}},
  EarlyStopping = {args = {"function() return 1 end", "{patience = 2, min_delta = 0.1, mode = 'max'}"}},
  Checkpointer = {args = {'"."', "{model = cnn.Dense(3, 2), every = 2, keep = 1, metric = function() return 1 end}"}},
  savecheckpoint = {args = {'"fuzz.safetensors"', "{model = cnn.Dense(3, 2), opt = cnn.ADAM(), step = 1}"}},
  loadcheckpoint = {setup = 'cnn.savecheckpoint("fuzz.safetensors", {model = cnn.Dense(3, 2)})',
                    args = {'"fuzz.safetensors"', "{model = cnn.Dense(3, 2)}"}},
  images = {args = {'"test"'}}, labels = {args = {'"train"'}},
  plot = {args = {"{1, 2, 0 / 0, 3}", "{width = 30, height = 8}"}},
  plotstring = {args = {"{a = cnn.rand(5), b = {1, 2}}", "{title = 't'}"}},
  savefig = {args = {'"fuzz.png"', "{1, 2, 0 / 0, 3}", "{width = 300, height = 200}"}},
}

local STEPS = {"descent_step", "momentum_step", "nesterov_step", "rmsprop_step", "adam_step", "adamw_step",
  "rule_step", "grad_norm", "ClipNorm"}

--- Names an error of a function may start with besides its own, and why.
fuzzer.aliases = {
  -- one function under two names: it cannot tell which was called
  Adam = {"ADAM"}, ADAMW = {"AdamW"},
  -- a gradient whose size differs from its parameter's is named by the C
  -- step that finds it ("adam_step: gradient 3 does not match parameter
  -- 2", as spec/optimisers_spec.lua expects)
  update = STEPS, train = STEPS,
  -- the op with log = true is logsoftmax's
  softmax = {"logsoftmax"}, softmax_backward = {"logsoftmax_backward"},
}

--- Functions and methods the fuzzer does not call, and why.
fuzzer.excluded = {
  -- steps of an iteration that the loader's __call and iter() make with
  -- the arguments they need; the public ways to iterate (for x, y in
  -- loader, loader:iter(), #loader) are fuzzed
  ["DataLoader:next_seed"] = true, ["DataLoader:new_pass"] = true,
  ["DataLoader:outputs"] = true, ["DataLoader:batch_of"] = true,
  ["ncycle:step"] = true,
  -- the steps of a Chain's call and of summary, for the layers in
  -- cnn/layers/: a Chain is fuzzed through its call, indexing and
  -- parameters, summary and outputsize
  ["Chain:run"] = true, ["Chain:each_output"] = true,
}

--- Failures that are understood but not yet fixed: a step of function
-- `fn` whose error matches `pattern` is counted as known, not as a
-- failure. Keep it empty; an entry is a bug to fix, with its reproducer.
fuzzer.known = {}

--- The known failure an error of a step matches, if any (fn "*" stands
-- for any function).
function fuzzer.known_failure(err, names)
  for _, k in ipairs(fuzzer.known) do
    for _, n in ipairs(names) do
      if (k.fn == "*" or n == k.fn) and tostring(err):find(k.pattern) then return k end
    end
  end
  return nil
end

-- Surface ---------------------------------------------------------------

local function is_identifier(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do
    if is_identifier(k) then keys[#keys + 1] = k end
  end
  table.sort(keys)
  return keys
end

--- The public functions of cnn as expressions ("cnn.core.zeros") with
-- their names, in a fixed order. cnn.Tensor is left to the receivers
-- (its functions are the metamethods and methods of tensors).
function fuzzer.functions(cnn)
  local list, seen = {}, {[cnn.Tensor] = true}
  local function walk(t, path, depth)
    seen[t] = true
    for _, k in ipairs(sorted_keys(t)) do
      local v, expr = t[k], path .. "." .. k
      if type(v) == "function" and not fuzzer.excluded[expr] then
        list[#list + 1] = {expr = expr, name = k, parent = path:match("([%w_]+)$")}
      elseif type(v) == "table" and not seen[v] and getmetatable(v) == nil and depth < 3 then
        walk(v, expr, depth + 1)
      end
    end
  end
  walk(cnn, "cnn", 1)
  return list
end

local METAMETHODS = {"__add", "__sub", "__mul", "__div", "__pow", "__unm", "__index", "__newindex",
                     "__len", "__tostring", "__close", "__call", "__eq", "__lt", "__le", "__concat"}

-- The method table behind an __index: the table itself, or the `methods`
-- upvalue of an __index function (Chain's).
local function method_table(index)
  if type(index) == "table" then return index end
  if type(index) ~= "function" then return nil end
  for i = 1, math.huge do
    local name, v = debug.getupvalue(index, i)
    if name == nil then return nil end
    if name == "methods" and type(v) == "table" then return v end
  end
end

--- The operations on an object of a kind: its metamethods ("__add", ...)
-- and its methods (by name), sorted, but for those excluded.
function fuzzer.operations(object, kind)
  local ops = {}
  local mt = getmetatable(object)
  if type(object) == "function" then return {"__call"} end
  if type(mt) ~= "table" then return ops end
  for _, name in ipairs(METAMETHODS) do
    if type(rawget(mt, name)) == "function" then ops[#ops + 1] = name end
  end
  local methods = method_table(rawget(mt, "methods") or rawget(mt, "__index"))
  if methods then
    for _, k in ipairs(sorted_keys(methods)) do
      if type(methods[k]) == "function" and k:sub(1, 2) ~= "__"
         and not fuzzer.excluded[(kind or "") .. ":" .. k] then
        ops[#ops + 1] = k
      end
    end
  end
  return ops
end

-- Cases -----------------------------------------------------------------

local function pick(list)
  return list[math.random(#list)]
end

local function random_value()
  return pick(fuzzer.values[pick(value_kinds)])
end

local function random_args()
  local args = {}
  for i = 1, math.random(0, 4) do args[i] = random_value() end
  return args
end

-- The template's arguments with one or two of them replaced, removed or
-- added.
local function mutated(template)
  local args = table.move(template.args, 1, #template.args, 1, {})
  for _ = 1, math.random(2) do
    local r = math.random(10)
    if r == 1 and #args > 0 then table.remove(args, math.random(#args))
    elseif r == 2 then table.insert(args, math.random(#args + 1), random_value())
    else args[math.random(#args + 1)] = random_value() end
  end
  return args
end

local BINARY = {__add = "+", __sub = "-", __mul = "*", __div = "/", __pow = "^",
                __eq = "==", __lt = "<", __le = "<=", __concat = ".."}
local OP_NAMES = {__add = {"add", ".+"}, __sub = {"sub", ".-"}, __mul = {"mul", ".*"},
                  __div = {"div", "./"}, __pow = {"pow", ".^"}, __unm = {"neg", "-"},
                  __eq = {"eq"}, __lt = {"lt"}, __le = {"le"}, __tostring = {"tostring"},
                  __close = {"free", "close"}, __len = {"len"}}

-- One operation on `o` as a statement, with the names its errors may
-- start with.
local function operation_source(receiver, op)
  local args = random_args()
  if receiver.input and op == "__call" and math.random(2) == 1 then
    args = mutated({args = {receiver.input}})
  end
  local list = table.concat(args, ", ")
  local names = {op, receiver.kind}
  for _, n in ipairs(OP_NAMES[op] or {}) do names[#names + 1] = n end
  for _, n in ipairs(receiver.names or {}) do names[#names + 1] = n end
  if BINARY[op] then
    local v = "(" .. (args[1] or "nil") .. ")"
    if math.random(2) == 1 then return ("local r = o %s %s"):format(BINARY[op], v), names end
    return ("local r = %s %s o"):format(v, BINARY[op]), names
  end
  if op == "__unm" then return "local r = -o", names end
  if op == "__len" then return "local r = #o", names end
  if op == "__tostring" then return "local r = tostring(o)", names end
  if op == "__close" then return "do local c <close> = o end", names end
  if op == "__call" then return ("local r = o(%s)"):format(list), names end
  if op == "__index" then return ("local r = o[%s]"):format(args[1] or "nil"), names end
  if op == "__newindex" then
    return ("o[%s] = %s"):format(args[1] or "nil", args[2] or "nil"), names
  end
  return ("local r = o:%s(%s)"):format(op, list), names
end

-- Whether a call passes functions or layers of its own, whose errors
-- (a layer refusing its input) may name them rather than the function
-- called.
local function passes_callables(src)
  return src:find("function", 1, true) ~= nil or src:find("cnn%.[A-Z]") ~= nil
    or src:find("cnn%.[%l_]+[,)]") ~= nil
end

local function call_case(fn)
  local template = fuzzer.templates[fn.name]
  local args, setup
  if template and math.random(2) == 1 then
    args, setup = mutated(template), template.setup
  else
    args = random_args()
  end
  local names = {fn.name}
  if fn.parent then names[#names + 1] = fn.parent .. "." .. fn.name end
  for _, n in ipairs(fuzzer.aliases[fn.name] or {}) do names[#names + 1] = n end
  for _, n in ipairs(OP_NAMES[fn.name] or {}) do names[#names + 1] = n end
  local steps = {}
  if setup then steps[1] = {src = setup} end
  local src = ("local r = %s(%s)"):format(fn.expr, table.concat(args, ", "))
  steps[#steps + 1] = {src = src, names = names, loose = passes_callables(src)}
  return steps
end

-- One of the receiver's statements, with random values in it.
local function statement_source(receiver)
  local statement = pick(receiver.statements)
  local src = statement:gsub("%%s", function() return "(" .. random_value() .. ")" end)
  local names = {"update", receiver.kind}
  for _, n in ipairs(fuzzer.aliases.update) do names[#names + 1] = n end
  return src, names
end

local function receiver_case(receiver, ops)
  local steps = {{src = "local o = " .. receiver.src}}
  local choices = #ops + (receiver.statements and #receiver.statements or 0)
  for _ = 1, math.random(3) do
    local src, names
    local k = math.random(choices)
    if k <= #ops then
      src, names = operation_source(receiver, ops[k])
    else
      src, names = statement_source(receiver)
    end
    steps[#steps + 1] = {src = src, names = names, loose = passes_callables(src)}
  end
  return steps
end

--- Case `index` of run `seed`: {steps = {{src=, names=}, ...}}; a step
-- without names is setup, which must not fail. `surface` is what
-- fuzzer.surface returns.
function fuzzer.case(seed, index, surface)
  math.randomseed(seed, index)
  if math.random(3) == 1 then
    local r = math.random(#surface.receivers)
    return {steps = receiver_case(surface.receivers[r], surface.operations[r])}
  end
  return {steps = call_case(pick(surface.functions))}
end

--- The case as a script to reproduce it with.
function fuzzer.repro(case)
  local lines = {'local cnn = require "cnn"'}
  for _, s in ipairs(case.steps) do lines[#lines + 1] = s.src end
  return table.concat(lines, "\n")
end

--- What the fuzzer calls: the functions, the receivers and the
-- operations of each (found by making each receiver once).
function fuzzer.surface(cnn)
  local s = {functions = fuzzer.functions(cnn), receivers = fuzzer.receivers, operations = {},
             public = {Chain = true}}
  for _, f in ipairs(s.functions) do s.public[f.name] = true end
  for i, r in ipairs(fuzzer.receivers) do
    local make = assert(load("local cnn = ... return " .. r.src, "=receiver", "t"))
    s.operations[i] = fuzzer.operations(make(cnn), r.kind)
    s.public[r.kind] = true
    for _, n in ipairs(r.names or {}) do s.public[n] = true end
    for _, op in ipairs(s.operations[i]) do s.public[op] = true end
  end
  for _, list in pairs(OP_NAMES) do
    for _, n in ipairs(list) do s.public[n] = true end
  end
  return s
end

-- Judging ---------------------------------------------------------------

-- Pieces of Lua's own runtime errors: an argument reached code that did
-- not expect it.
local RAW = {"attempt to index", "attempt to call", "attempt to perform", "attempt to compare",
             "attempt to concatenate", "attempt to get length", "attempt to divide",
             "attempt to add", "has no integer representation", "stack overflow",
             "not enough memory", "table index is nil", "table index is NaN",
             "invalid value (at index", "'for' initial value", "'for' limit", "'for' step",
             "invalid order function"}

-- Lua's standard functions: a bad argument to one of them is the
-- library's fault, not a check.
local STANDARD = {}
for _, lib in ipairs{_G, string, table, math, utf8, coroutine, debug, io, os} do
  for k, v in pairs(lib) do
    if type(v) == "function" then STANDARD[k] = true end
  end
end
STANDARD["?"], STANDARD["for iterator"] = true, true

local function starts_with_name(msg, names)
  for n in pairs(names) do
    if msg:sub(1, #n) == n and msg:sub(#n + 1, #n + 1):match("^[:%(%s,%.%[]") then return true end
  end
  return false
end

-- The function a message of luaL_argerror names ("bad argument #1 to
-- 'zeros' (...)", "calling 'set' on bad self (...)"), if any.
local function argerror_target(msg)
  return msg:match("^bad argument #%d+ to '([^']*)'") or msg:match("^calling '([^']*)' on bad self")
end

local function as_set(list)
  local set = {}
  for _, n in ipairs(list) do set[n] = true end
  return set
end

--- nil when an error raised by a step is acceptable, else why not.
-- `names` are the names the message may start with; `public` (optional)
-- all public names, allowed when the step passed functions or layers of
-- its own (their errors are about what they were given).
function fuzzer.judge(err, names, public)
  if type(err) ~= "string" then return "raised a " .. type(err) .. ", not a message" end
  if err:find("fuzz: user error", 1, true) then return nil end
  local where, msg = err:match("^([^\n]-):%d+: (.*)$")
  if where == nil then msg = err
  elseif where ~= "case" then return "the message points into " .. where end
  if msg:find("lua/cnn/", 1, true) or msg:find("cnn/[%w_/]+%.lua:%d+") then
    return "the message holds a position inside the library"
  end
  local allowed = as_set(names)
  local body = msg
  for target in msg:gmatch("bad argument #%d+ to '([^']*)'") do
    local named = allowed[target] or (public or {})[target] or (target == "?" and starts_with_name(msg, allowed))
    if STANDARD[target] and not named then
      return "a bad argument to Lua's " .. target
    end
  end
  body = body:gsub("bad argument #%d+ to '[^']*' %b()", ""):gsub("calling '[^']*' on bad self %b()", "")
  for _, raw in ipairs(RAW) do
    if body:find(raw, 1, true) then return "a raw Lua error: " .. raw end
  end
  if names[1] == "__index" or names[1] == "__newindex" then
    if msg:find("ind") or msg:find("tensor") then return nil end
  end
  if starts_with_name(msg, allowed) or allowed[argerror_target(msg) or ""] then return nil end
  if public and (starts_with_name(msg, public) or public[argerror_target(msg) or ""]) then return nil end
  return "the message does not start with " .. table.concat(names, " or ")
end

-- Worker ------------------------------------------------------------------

-- Global settings a call may change, put back before each case.
local function settings_keeper(cnn)
  local core = cnn.core
  local threads, profiling = core.threads(), core.profiling()
  local adaptive, precision = core.adaptive_threads(), core.precision()
  return function()
    core.threads(threads)
    core.adaptive_threads(adaptive)
    core.profiling(profiling)
    core.precision(precision)
    cnn.seed(0)
  end
end

-- Runs one case; returns nil or {reason=, step=, err=}.
local function run_case(cnn, case, limit, public)
  local current = 0
  local env = setmetatable({cnn = cnn, STEP = function(k) current = k end}, {__index = _G})
  local lines = {}
  for k, s in ipairs(case.steps) do lines[k] = ("STEP(%d) %s"):format(k, s.src) end
  local chunk = assert(load(table.concat(lines, "\n"), "=case", "t", env))
  local stats0 = cnn.core.stats().tensor_bytes_allocated
  local start = cnn.core.monotime()
  local ok, err = pcall(chunk)
  local seconds = cnn.core.monotime() - start
  local bytes = cnn.core.stats().tensor_bytes_allocated - stats0
  if bytes > fuzzer.MAX_BYTES then
    return {reason = ("allocated %.0f MiB of tensors (at most %d)"):format(bytes / 2^20,
      fuzzer.MAX_BYTES // 2^20)}
  end
  if seconds > limit then
    return {reason = ("took %.1f s (at most %g)"):format(seconds, limit)}
  end
  if ok then return {} end
  local step = case.steps[current]
  if step == nil or step.names == nil then
    return {reason = "its setup failed", err = tostring(err), step = current}
  end
  local why = fuzzer.judge(err, step.names, step.loose and public or nil)
  if why and fuzzer.known_failure(err, step.names) then return {known = true} end
  if why then return {reason = why, err = tostring(err), step = current} end
  return {raised = true}
end

-- "returned", "raised" (an acceptable error), "known" or "failed".
local function outcome_kind(o)
  if o.reason then return "failed" end
  if o.known then return "known" end
  if o.raised then return "raised" end
  return "returned"
end

local function write_escaped(log, ...)
  local parts = table.pack(...)
  local escapes = {["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t"}
  for i = 1, parts.n do parts[i] = tostring(parts[i]):gsub("[\\\n\t]", escapes) end
  log:write(table.concat(parts, "\t"), "\n")
end

--- Runs cases first..last of `seed` (or the cases of a file of custom
-- ones) and writes to `logpath`: "START i" before case i, "FAIL i reason
-- err" after a bad one, "DONE" at the end.
function fuzzer.worker(seed, first, last, logpath, limit, cases_path)
  local cnn = require "cnn"
  local log = assert(io.open(logpath, "w"))
  local reset = settings_keeper(cnn)
  local custom = cases_path and dofile(cases_path)
  local surface = fuzzer.surface(cnn)
  local public = surface.public
  local counts = {returned = 0, raised = 0, known = 0, failed = 0}
  for i = first, last do
    log:write("START\t", i, "\n")
    log:flush()
    local case = custom and custom[i] or fuzzer.case(seed, i, surface)
    reset()
    local outcome = run_case(cnn, case, limit, public)
    if outcome.reason then write_escaped(log, "FAIL", i, outcome.reason, outcome.err or "") end
    local kind = outcome_kind(outcome)
    counts[kind] = counts[kind] + 1
    if i % 64 == 0 then collectgarbage() end
  end
  log:write(("DONE\t%d\t%d\t%d\n"):format(counts.returned, counts.raised, counts.known))
  log:close()
end

-- Driver ------------------------------------------------------------------

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

local function unescape(s)
  return (s:gsub("\\(.)", {n = "\n", t = "\t", ["\\"] = "\\"}))
end

-- A tiny MNIST and Fashion-MNIST (3 training and 2 test images) in dir.
local function write_fake_datasets(dir)
  for _, folder in ipairs{"mnist", "fashion-mnist"} do
    os.execute("mkdir -p " .. shell_quote(dir .. "/" .. folder))
    for prefix, n in pairs{train = 3, t10k = 2} do
      local images = string.pack(">I4I4I4I4", 0x803, n, 28, 28) .. ("\7"):rep(28 * 28 * n)
      local labels = string.pack(">I4I4", 0x801, n) .. ("\1"):rep(n)
      local base = ("%s/%s/%s-"):format(dir, folder, prefix)
      for name, bytes in pairs{["images-idx3-ubyte"] = images, ["labels-idx1-ubyte"] = labels} do
        local f = assert(io.open(base .. name, "wb"))
        f:write(bytes)
        f:close()
      end
    end
  end
end

local function absolute(path)
  if path:sub(1, 1) == "/" then return path end
  return io.popen("pwd"):read("l") .. "/" .. path:gsub("^%./", "")
end

local function this_file()
  return absolute(debug.getinfo(1, "S").source:sub(2))
end

-- Serialises custom cases to a file the worker reads with dofile.
local function write_cases(path, cases)
  local f = assert(io.open(path, "w"))
  f:write("return {\n")
  for _, case in ipairs(cases) do
    f:write("  {steps = {\n")
    for _, s in ipairs(case.steps) do
      local names = {}
      for i, n in ipairs(s.names or {}) do names[i] = ("%q"):format(n) end
      f:write(("    {src = %q, names = %s, loose = %s},\n"):format(s.src,
        s.names and "{" .. table.concat(names, ", ") .. "}" or "nil", tostring(s.loose == true)))
    end
    f:write("  }},\n")
  end
  f:write("}\n")
  f:close()
end

local function exit_text(status)
  if status == 137 then return "killed after the time limit (a hang)" end
  if status > 128 then return ("killed by signal %d (a crash)"):format(status - 128) end
  return ("ended with status %d"):format(status)
end

-- Runs one worker over cases first..last; returns the index it stopped
-- at when it did not finish, the failures it logged and its status.
local function run_worker(o, dir, first, last)
  local log, errlog = dir .. "/log", dir .. "/stderr"
  local limit = ""
  if not (os.getenv("LD_PRELOAD") or ""):find("asan") then limit = "ulimit -v 8000000; " end
  local cmd = ("cd %s && %sCNNLUA_DATA=%s OMP_WAIT_POLICY=passive timeout -s KILL %d %s %s worker %d %d %d %s %g %s"
    .. " </dev/null >/dev/null 2>%s; echo $?")
    :format(shell_quote(dir .. "/work"), limit, shell_quote(dir .. "/data"), o.timeout,
      shell_quote(o.host), shell_quote(this_file()), o.seed, first, last, shell_quote(log),
      o.call_limit, o.cases_path and shell_quote(o.cases_path) or "", shell_quote(errlog))
  local p = io.popen(cmd)
  local status = tonumber(p:read("a"):match("(%d+)%s*$")) or -1
  p:close()
  local failures, started, done, counts = {}, first - 1, false, nil
  for line in read_file(log):gmatch("[^\n]+") do
    local fields = {}
    for f in (line .. "\t"):gmatch("(.-)\t") do fields[#fields + 1] = f end
    if fields[1] == "START" then started = tonumber(fields[2])
    elseif fields[1] == "FAIL" then
      failures[#failures + 1] = {index = tonumber(fields[2]), reason = unescape(fields[3]),
                                 err = unescape(fields[4] or "")}
    elseif fields[1] == "DONE" then
      done = true
      counts = {returned = tonumber(fields[2]), raised = tonumber(fields[3]), known = tonumber(fields[4])}
    end
  end
  if done and status == 0 then return nil, failures, counts end
  local tail = read_file(errlog):sub(-2000)
  failures[#failures + 1] = {index = started, reason = exit_text(status), err = tail}
  return started, failures
end

--- Runs `count` calls of seed `seed` in workers of `chunk` calls each.
-- Options: host (the cnnlua to run), count, seed, chunk (500), timeout
-- (seconds per worker, 300), call_limit (seconds per call, 20), cases (a
-- list of custom cases instead of generated ones), progress (a function
-- given the calls done). Returns {calls=, seconds=, returned=, raised=,
-- known= (calls that returned, raised an acceptable error, or a known
-- one), failures = {{index=, reason=, err=, repro=}}}.
function fuzzer.run(o)
  local opts = {host = absolute(o.host), seed = o.seed or 1, chunk = o.chunk or 500, timeout = o.timeout or 300,
                call_limit = o.call_limit or 20}
  local dir = io.popen("mktemp -d"):read("l")
  os.execute("mkdir -p " .. shell_quote(dir .. "/work"))
  write_fake_datasets(dir .. "/data")
  local count = o.count
  if o.cases then
    opts.cases_path = dir .. "/cases.lua"
    write_cases(opts.cases_path, o.cases)
    count = #o.cases
  end
  local surface
  local report = {calls = 0, failures = {}, returned = 0, raised = 0, known = 0}
  local clock = os.time()
  local first = 1
  while first <= count do
    local last = math.min(first + opts.chunk - 1, count)
    local stopped, failures, counts = run_worker(opts, dir, first, last)
    for k, v in pairs(counts or {}) do report[k] = report[k] + v end
    if stopped and stopped < first then
      os.execute("rm -rf " .. shell_quote(dir))
      error("api fuzzer: the worker did not start: " .. failures[#failures].reason .. "\n"
        .. failures[#failures].err, 0)
    end
    for _, f in ipairs(failures) do
      local case = o.cases and o.cases[f.index]
      if not case then
        surface = surface or fuzzer.surface(require "cnn")
        case = fuzzer.case(opts.seed, f.index, surface)
      end
      f.repro = fuzzer.repro(case)
      report.failures[#report.failures + 1] = f
    end
    first = (stopped or last) + 1
    report.calls = first - 1
    if o.progress then o.progress(report.calls, #report.failures) end
  end
  report.seconds = os.time() - clock
  os.execute("rm -rf " .. shell_quote(dir))
  return report
end

--- A failure as text: where, why, the message and the script that
-- reproduces it.
function fuzzer.describe_failure(f, seed)
  local lines = {("seed %d, call %d: %s"):format(seed, f.index, f.reason)}
  if f.err and f.err ~= "" then lines[#lines + 1] = "  error: " .. f.err:gsub("\n", "\n  ") end
  lines[#lines + 1] = "  reproduce with: cnnlua -e " .. shell_quote(f.repro or "")
  return table.concat(lines, "\n")
end

-- The command line of scripts/fuzz-api: `run COUNT SEED` runs that many
-- calls and prints the failures; `case SEED INDEX` prints one call.
local function main(command, a, b)
  local cnn = require "cnn"
  if command == "case" then
    print(fuzzer.repro(fuzzer.case(tonumber(a), tonumber(b), fuzzer.surface(cnn))))
    return true
  end
  local count, seed = tonumber(a), tonumber(b)
  local host = arg[-1]
  print(("api fuzzer: %d calls, seed %d, %s"):format(count, seed, host))
  local report = fuzzer.run{host = host, count = count, seed = seed, chunk = 2000,
    progress = function(done, failed)
      io.stderr:write(("\r%d calls, %d failures"):format(done, failed))
    end}
  io.stderr:write("\n")
  for _, f in ipairs(report.failures) do print(fuzzer.describe_failure(f, seed)) end
  print(("%d calls in %d s: %d returned, %d raised a named error, %d known failures (see "
    .. "fuzzer.known), %d failures"):format(report.calls, report.seconds, report.returned,
    report.raised, report.known, #report.failures))
  return #report.failures == 0
end

-- As a script: `cnnlua api_fuzzer.lua worker SEED FIRST LAST LOG LIMIT
-- [CASES]` runs cases in this process; `run` and `case` as main above.
if arg and type(arg[0]) == "string" and arg[0]:match("api_fuzzer%.lua$") then
  if arg[1] == "worker" then
    fuzzer.worker(tonumber(arg[2]), tonumber(arg[3]), tonumber(arg[4]), arg[5], tonumber(arg[6]),
      arg[7])
  elseif arg[1] == "run" or arg[1] == "case" then
    os.exit(main(arg[1], arg[2], arg[3]) and 0 or 1)
  end
end

return fuzzer
