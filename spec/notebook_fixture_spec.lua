-- The notebook's network against PyTorch: forward output, loss, every
-- gradient and the weights after one ADAM step, from fixtures written by
-- scripts/make-fixtures (PyTorch is not needed to run this spec).
local cnn = require "cnn"
local helpers = require "helpers"

-- Each element within 1e-4 of the float64 reference, relative to itself,
-- or within 1e-6 where it is near zero.
local assert_matches = helpers.reference_matcher({rel = 1e-4, abs = 1e-6})

local NAMES = {"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
               "conv3.weight", "conv3.bias", "dense.weight", "dense.bias"}



describe("the notebook network against PyTorch", function()
  local ref, m, ps

  setup(function()
    ref = helpers.fixture("notebook")
  end)

  before_each(function()
    m = helpers.notebook_model()
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
    assert_matches(loss(ref.x, ref.y), ref.loss, "loss")
  end)

  it("gives PyTorch's gradient for every parameter", function()
    local l, gs = cnn.withgradient(function() return loss(ref.x, ref.y) end, ps)
    assert_matches(l, ref.loss, "loss")
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
    helpers.assert_no_new_primitives(step)
  end)
end)
