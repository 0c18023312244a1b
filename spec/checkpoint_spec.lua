local cnn = require "cnn"

local function model()
  return cnn.Chain(cnn.Conv({3, 3}, 1, 4, cnn.relu, {pad = 1}), cnn.BatchNorm(4),
                   cnn.MaxPool({2, 2}), cnn.flatten, cnn.Dense(4 * 4 * 4, 3))
end

local function tmpfile()
  local path = os.tmpname()
  os.remove(path)
  return path
end

describe("savemodel and loadmodel", function()
  it("round-trip parameters and running statistics", function()
    local path = tmpfile()
    local a, b = model(), model()
    cnn.trainmode(a)
    a(cnn.rand(8, 8, 1, 5)) -- moves BatchNorm's running statistics
    cnn.savemodel(path, a)
    local sa, sb = cnn.params(a), cnn.params(b)
    assert.is_false(sa[1] == sb[1])
    assert.are.equal(b, cnn.loadmodel(path, b))
    for i = 1, #sa do assert.is_true(sa[i] == sb[i]) end
    assert.is_true(a[2].running_mean == b[2].running_mean)
    assert.is_true(a[2].running_var == b[2].running_var)
    local x = cnn.rand(8, 8, 1, 2)
    cnn.testmode(a); cnn.testmode(b)
    assert.is_true(a(x) == b(x))
    os.remove(path)
  end)

  it("refuses another architecture and leaves the model untouched", function()
    local path = tmpfile()
    cnn.savemodel(path, model())
    local other = cnn.Chain(cnn.Conv({3, 3}, 1, 4, cnn.relu, {pad = 1}), cnn.BatchNorm(4),
                            cnn.MaxPool({2, 2}), cnn.flatten, cnn.Dense(4 * 4 * 4, 5))
    local before = cnn.params(other)[5]:clone()
    assert.has_error(function() cnn.loadmodel(path, other) end,
      ("loadmodel: tensor 5 is 5×64 in the model but 3×64 in %s"):format(path))
    assert.is_true(before == cnn.params(other)[5])
    local fewer = cnn.Chain(cnn.Dense(2, 2))
    assert.has_error(function() cnn.loadmodel(path, fewer) end,
      ("loadmodel: %s holds 8 tensors, the model has 2"):format(path))
    os.remove(path)
  end)

  it("reports a missing file", function()
    assert.has_error(function() cnn.loadmodel("/nonexistent/m.safetensors", model()) end)
  end)
end)
