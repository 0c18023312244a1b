-- The data sets' files: MNIST and Fashion-MNIST take unsigned-byte IDX
-- files only, images 28×28×N and labels a vector of digits, and say which
-- file is wrong and how; the generic reader takes every IDX type and says
-- which it read. Small IDX files are written here with string.pack.
local cnn = require "cnn"
local core = cnn.core
local helpers = require "helpers"

local err = helpers.error_message

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir .. "/mnist " .. dir .. "/fashion-mnist"))
teardown(function() os.execute("rm -rf " .. dir) end)

--- An IDX image: magic, big-endian dimensions, then the data bytes.
local function idx(type_code, dims, data)
  local parts = {string.char(0, 0, type_code, #dims)}
  for _, d in ipairs(dims) do parts[#parts + 1] = string.pack(">I4", d) end
  parts[#parts + 1] = data
  return table.concat(parts)
end

local function write(folder, name, bytes)
  return helpers.write_bytes(("%s/%s/%s"):format(dir, folder, name), bytes)
end

local images_file, labels_file = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"

--- `n` images of 28×28 of one element type, each element packed by `fmt`.
local function images(type_code, fmt, n, value)
  return idx(type_code, {n, 28, 28}, string.rep(string.pack(fmt, value), n * 784))
end

describe("MNIST.images", function()
  local MNIST = cnn.datasets.MNIST

  it("reads unsigned bytes as 28×28×N in [0, 1]", function()
    write("mnist", images_file, images(0x08, "B", 2, 255))
    local x = MNIST.images("test", dir)
    assert.are.same({28, 28, 2}, x:size())
    assert.are.equal(1, core.minimum(x))
  end)

  it("refuses every other element type, naming the file and what it holds", function()
    local cases = {
      {0x0D, ">f", 3e36, "float32"}, {0x0E, ">d", 0 / 0, "float64"},
      {0x09, "b", -5, "sbyte"}, {0x0B, ">i2", 300, "int16"}, {0x0C, ">i4", 7, "int32"},
    }
    for _, c in ipairs(cases) do
      local path = write("mnist", images_file, images(c[1], c[2], 1, c[3]))
      assert.are.equal(("MNIST.images: %s holds %s data, expected unsigned bytes (IDX type 0x08)")
        :format(path, c[4]), err(MNIST.images, "test", dir))
    end
  end)

  it("refuses images that are not 28×28×N", function()
    local path = write("mnist", images_file, idx(0x08, {28, 28}, string.rep("\0", 784)))
    assert.are.equal(("MNIST.images: %s holds 28×28 data, expected 28×28×N images"):format(path),
      err(MNIST.images, "test", dir))
  end)

  it("names itself for a broken file", function()
    local path = write("mnist", images_file, idx(0x08, {2, 28, 28}, string.rep("\0", 784)))
    assert.are.equal(("MNIST.images: %s: truncated: header declares 1568 bytes of data, "
      .. "file has 784"):format(path), err(MNIST.images, "test", dir))
  end)
end)

describe("MNIST.labels and FashionMNIST.labels", function()
  local MNIST, FashionMNIST = cnn.datasets.MNIST, cnn.datasets.FashionMNIST

  it("read a vector of digits as Int32", function()
    write("mnist", labels_file, idx(0x08, {4}, string.char(7, 0, 9, 3)))
    local y = MNIST.labels("test", dir)
    assert.are.equal("Int32", y:dtype())
    assert.are.same({7, 0, 9, 3}, y:totable())
  end)

  it("refuse a label that is not a digit, naming the first and its position", function()
    local path = write("mnist", labels_file, idx(0x08, {5}, string.char(1, 2, 255, 28, 3)))
    assert.are.equal(("MNIST.labels: %s holds label 255 at position 3, expected digits 0–9")
      :format(path), err(MNIST.labels, "test", dir))
    path = write("mnist", labels_file, idx(0x08, {3}, string.char(28, 0, 1)))
    assert.are.equal(("MNIST.labels: %s holds label 28 at position 1, expected digits 0–9")
      :format(path), err(MNIST.labels, "test", dir))
  end)

  it("refuse labels that are not unsigned bytes, naming the file", function()
    local path = write("mnist", labels_file, idx(0x0D, {2}, string.pack(">f>f", 1, 2)))
    assert.are.equal(("MNIST.labels: %s holds float32 data, expected unsigned bytes (IDX type 0x08)")
      :format(path), err(MNIST.labels, "test", dir))
    path = write("mnist", labels_file, idx(0x09, {2}, string.pack("bb", 1, -1)))
    assert.are.equal(("MNIST.labels: %s holds sbyte data, expected unsigned bytes (IDX type 0x08)")
      :format(path), err(MNIST.labels, "test", dir))
  end)

  it("refuse labels that are not a vector", function()
    local path = write("mnist", labels_file, idx(0x08, {2, 2}, string.char(1, 2, 3, 4)))
    assert.are.equal(("MNIST.labels: %s holds 2×2 data, expected a vector of labels"):format(path),
      err(MNIST.labels, "test", dir))
  end)

  it("check gzip files the same way", function()
    local path = write("fashion-mnist", labels_file, idx(0x08, {3}, string.char(9, 10, 0)))
    assert(os.execute(("gzip -nf %q"):format(path)))
    assert.are.equal(("FashionMNIST.labels: %s.gz holds label 10 at position 2, expected digits 0–9")
      :format(path), err(FashionMNIST.labels, "test", dir))
  end)
end)

describe("images and labels together", function()
  it("must have as many images as labels where the library pairs them", function()
    write("mnist", images_file, images(0x08, "B", 3, 1))
    write("mnist", labels_file, idx(0x08, {2}, string.char(1, 2)))
    local x = cnn.datasets.MNIST.images("test", dir):reshape(28, 28, 1, -1)
    local labels = cnn.datasets.MNIST.labels("test", dir)
    local y = cnn.onehotbatch(labels, cnn.range(0, 9))
    -- the wording is the DataLoader's and accuracy's own: both counts appear
    local msg = err(cnn.DataLoader, x, y)
    assert.matches("^DataLoader: .*2 observations.*", msg)
    assert.matches("28×28×1×3", msg, 1, true)
    local model = cnn.Chain(cnn.flatten, cnn.Dense(784, 10))
    msg = err(cnn.accuracy, model, x, labels, cnn.range(0, 9))
    assert.matches("^accuracy: x has 3 images .* but y has 2", msg)
  end)
end)

describe("read_idx", function()
  it("reads every IDX element type and says which it read", function()
    local cases = {
      {0x08, "B", 200, "ubyte"}, {0x09, "b", -3, "sbyte"}, {0x0B, ">i2", -300, "int16"},
      {0x0C, ">i4", 70000, "int32"}, {0x0D, ">f", 1.5, "float32"}, {0x0E, ">d", -2.25, "float64"},
    }
    for _, c in ipairs(cases) do
      local path = write("mnist", "any", idx(c[1], {1}, string.pack(c[2], c[3])))
      local x, kind = core.read_idx(path)
      assert.are.equal(c[4], kind)
      assert.are.same({c[3]}, x:totable())
    end
  end)
end)
