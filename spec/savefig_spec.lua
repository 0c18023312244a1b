-- cnn.savefig: line plots written as PNG or SVG through cairo, read back
-- with build/png_probe (cairo's PNG reader: width, height and the number
-- of pixels that differ from the background).
local cnn = require "cnn"

local function probe(path)
  local pipe = assert(io.popen("build/png_probe " .. path .. " 2>&1"))
  local out = pipe:read("a")
  local ok = pipe:close()
  assert(ok, out)
  local w, h, inked = out:match("^(%d+) (%d+) (%d+)\n$")
  assert(w, out)
  return tonumber(w), tonumber(h), tonumber(inked)
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function curve()
  local h = cnn.History()
  for i = 1, 100 do h:record_loss(i, (i - 1) // 50 + 1, 2 / i) end
  h:record_callback("test", 50, {accuracy = 0.9})
  h:record_callback("test", 100, {accuracy = 0.95})
  return h
end

describe("savefig", function()
  local base
  before_each(function() base = os.tmpname() end)
  after_each(function()
    for _, ext in ipairs({"", ".png", ".svg", "-2.png"}) do os.remove(base .. ext) end
  end)

  it("writes a PNG of the given size with the plot drawn on it", function()
    local path = base .. ".png"
    cnn.savefig(path, curve(), {width = 640, height = 400, title = "training", xlabel = "step"})
    assert.are.equal("\137PNG\r\n\26\n", read(path):sub(1, 8))
    local w, h, inked = probe(path)
    assert.are.equal(640, w)
    assert.are.equal(400, h)
    -- axes, grid, labels and two curves: some pixels, far from all
    assert.is_true(inked > 2000 and inked < w * h / 4, tostring(inked))
    -- the default size, and more ink for a wiggly curve than for a flat one
    local flat, wiggly = {}, {}
    for i = 1, 200 do flat[i], wiggly[i] = 1, (i % 2) end
    flat[1] = 0
    cnn.savefig(path, flat)
    local other = base .. "-2.png"
    cnn.savefig(other, wiggly)
    local w2, h2, flat_ink = probe(path)
    assert.are.same({800, 500}, {w2, h2})
    assert.is_true(select(3, probe(other)) > flat_ink + 10000)
  end)

  it("writes an SVG", function()
    local path = base .. ".svg"
    cnn.savefig(path, {loss = cnn.tensor({3, 2, 1})}, {width = 300, height = 200})
    local svg = read(path)
    assert.matches("^<%?xml", svg)
    assert.matches('<svg [^>]*width="300pt" height="200pt"', svg)
    assert.matches("<path [^>]*stroke", svg)
  end)

  it("refuses other extensions, naming the valid ones, and what it cannot write", function()
    assert.has_error(function() cnn.savefig("curve.jpg", {1, 2}) end,
      'savefig: path must be a file name ending in ".png" or ".svg", got "curve.jpg"')
    assert.has_error(function() cnn.savefig(3, {1, 2}) end, "savefig: path must be a string, got 3")
    assert.has_error(function() cnn.savefig("a.png") end,
      "savefig: expected one or more series (a History, a 1-D tensor, an array of numbers, "
      .. "a schedule or a table of them by name)")
    assert.has_error(function() cnn.savefig("a.png", {1, 2}, {width = 10}) end,
      "savefig: width must be an integer in 200..16384, got 10")
    local ok, err = pcall(cnn.savefig, "/nonexistent/dir/a.png", {1, 2})
    assert.is_false(ok)
    assert.matches("^[^\n]*savefig: cannot write /nonexistent/dir/a.png: ", err)
  end)
end)
