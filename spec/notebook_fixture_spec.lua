-- The notebook's network against PyTorch: forward output, loss, every
-- gradient and the weights after one ADAM step, from fixtures written by
-- scripts/make-fixtures (PyTorch is not needed to run this spec).
local cnn = require "cnn"
local core = cnn.core

local FIXTURE = "spec/fixtures/notebook.safetensors"
local RTOL, ATOL = 1e-4, 1e-6

local NAMES = {"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
               "conv3.weight", "conv3.bias", "dense.weight", "dense.bias"}

local function notebook_model()
  return cnn.Chain(
    cnn.Conv({3, 3}, 1, 16, cnn.relu, {pad = 1}), cnn.MaxPool({2, 2}),
    cnn.Conv({3, 3}, 16, 32, cnn.relu, {pad = 1}), cnn.MaxPool({2, 2}),
    cnn.Conv({3, 3}, 32, 32, cnn.relu, {pad = 1}), cnn.MaxPool({2, 2}),
    function(x) return x:reshape(-1, x:size(4)) end, cnn.Dense(288, 10), cnn.softmax)
end

-- The largest |a - e| / (ATOL + RTOL·|e|) over the elements (≤ 1 passes)
-- and the largest relative error among elements above ATOL.
local function compare(actual, expected)
  assert.are.same(expected:size(), actual:size())
  local a = actual:contiguous():reshape(-1):totable()
  local e = expected:contiguous():reshape(-1):totable()
  local worst, worst_i, max_rel = 0, 1, 0
  for i = 1, #e do
    local diff = math.abs(a[i] - e[i])
    local ratio = diff / (ATOL + RTOL * math.abs(e[i]))
    if ratio > worst then worst, worst_i = ratio, i end
    if math.abs(e[i]) > ATOL then max_rel = math.max(max_rel, diff / math.abs(e[i])) end
  end
  return worst, max_rel, worst_i, a[worst_i], e[worst_i]
end

local function assert_matches(actual, expected, what)
  local worst, max_rel, i, a, e = compare(actual, expected)
  if worst > 1 then
    error(("%s: element %d is %.9g, PyTorch gives %.9g (max relative error %.3g)")
      :format(what, i, a, e, max_rel), 2)
  end
  return max_rel
end

describe("the notebook network against PyTorch", function()
  local ref, m, ps

  setup(function()
    ref = core.load_safetensors(FIXTURE)
  end)

  before_each(function()
    m = notebook_model()
    ps = cnn.params(m)
    for i, name in ipairs(NAMES) do ps[i]:copy(ref[name]) end
  end)

  local function loss(x, y)
    return cnn.crossentropy(m(x), y)
  end

  it("reads the fixture in cnnlua's layouts", function()
    assert.are.same({28, 28, 1, 4}, ref.x:size())
    assert.are.same({10, 4}, ref.y:size())
    assert.are.same({10, 4}, ref.yhat:size())
    for i, name in ipairs(NAMES) do
      assert.are.same(ps[i]:size(), ref[name]:size())
      assert.are.same(ps[i]:size(), ref["grad." .. name]:size())
      assert.are.same(ps[i]:size(), ref["adam." .. name]:size())
    end
  end)

  it("gives PyTorch's forward output and loss", function()
    assert_matches(m(ref.x), ref.yhat, "yhat")
    local l = loss(ref.x, ref.y)
    local e = ref.loss:item()
    assert.is_true(math.abs(l - e) <= ATOL + RTOL * math.abs(e), ("loss %.9g, PyTorch %.9g"):format(l, e))
  end)

  it("gives PyTorch's gradient for every parameter", function()
    local l, gs = cnn.withgradient(function() return loss(ref.x, ref.y) end, ps)
    assert.is_true(math.abs(l - ref.loss:item()) <= ATOL + RTOL * ref.loss:item())
    for i, name in ipairs(NAMES) do
      assert.is_not_nil(gs[ps[i]], name)
      assert_matches(gs[ps[i]], ref["grad." .. name], "gradient of " .. name)
    end
  end)

  it("gives PyTorch's parameters after one ADAM step", function()
    local gs = cnn.gradient(function() return loss(ref.x, ref.y) end, ps)
    cnn.update(cnn.ADAM(1e-3), ps, gs)
    for i, name in ipairs(NAMES) do
      assert_matches(ps[i], ref["adam." .. name], name .. " after ADAM")
    end
  end)

  it("creates no oneDNN primitive from the second training step on", function()
    local opt = cnn.ADAM()
    local function step()
      local gs = cnn.gradient(function() return loss(ref.x, ref.y) end, ps)
      cnn.update(opt, ps, gs)
    end
    step()
    local created = core.stats().primitives_created
    step()
    step()
    assert.are.equal(created, core.stats().primitives_created)
  end)
end)
