-- cnn.datasets: MNIST and Fashion-MNIST from the data folder (filled by
-- scripts/fetch-data, which the test script runs first), checked against
-- the bytes of the files; and the errors for splits and missing files.
local cnn = require "cnn"
local core = cnn.core
local helpers = require "helpers"

local err = helpers.error_message

local exists = helpers.exists

local f32 = helpers.f32

--- Bytes [first, last] (1-based) of a file, inflated first if it is .gz.
local function file_bytes(path, first, last)
  local f
  if path:match("%.gz$") then
    f = assert(io.popen(("gzip -dc %q"):format(path), "r"))
  else
    f = assert(io.open(path, "rb"))
  end
  local s = f:read(last)
  f:close()
  return { s:byte(first, last) }
end

local folder = cnn.datasets.folder()
local have_data = folder and exists(folder .. "/mnist/t10k-labels-idx1-ubyte")
  and exists(folder .. "/fashion-mnist/t10k-labels-idx1-ubyte.gz")

describe("the data folder", function()
  it("holds MNIST and Fashion-MNIST (run scripts/fetch-data otherwise)", function()
    assert(have_data, ("the data sets are missing from %s: run scripts/fetch-data first"):format(
      tostring(folder)))
    if os.getenv("CNNLUA_DATA") == nil then
      assert.matches("/data$", folder)
    end
  end)
end)

if have_data then
  local MNIST, FashionMNIST = cnn.datasets.MNIST, cnn.datasets.FashionMNIST

  describe("MNIST", function()
    it("test images: contiguous 28×28×10000 Float32, the file's bytes / 255", function()
      local x = MNIST.images("test")
      assert.same({28, 28, 10000}, x:size())
      assert.equal("Float32", x:dtype())
      assert.is_true(x:is_contiguous())
      assert.equal(0, core.minimum(x))
      assert.equal(1, core.maximum(x))
      -- image 2 starts after the 16-byte header and one image
      local raw = file_bytes(folder .. "/mnist/t10k-images-idx3-ubyte", 17 + 784, 16 + 2 * 784)
      local img = x[2]:totable() -- img[col][row]
      for row = 1, 28 do
        for col = 1, 28 do
          assert.equal(f32(raw[(row - 1) * 28 + col] / 255), img[col][row])
        end
      end
    end)

    it("test labels: 10000 Int32 digits", function()
      local y = MNIST.labels("test")
      assert.same({10000}, y:size())
      assert.equal("Int32", y:dtype())
      assert.same({7, 2, 1, 0, 4, 1, 4, 9, 5, 9}, y:narrow(1, 1, 10):totable())
    end)

    it("train is the default split: 60000 images, the known digit counts", function()
      local x = MNIST.images()
      assert.same({28, 28, 60000}, x:size())
      x:free()
      local y = MNIST.labels()
      assert.same({5, 0, 4, 1, 9, 2, 1, 3, 1, 4}, y:narrow(1, 1, 10):totable())
      local counts = core.sum(cnn.onehotbatch(y, cnn.range(0, 9)), 2)
      assert.same({{5923}, {6742}, {5958}, {6131}, {5842}, {5421}, {5918}, {6265}, {5851}, {5949}},
        counts:totable())
    end)
  end)

  describe("FashionMNIST", function()
    it("reads the gzip files: labels as in the file, 1000 of each class in test", function()
      local y = FashionMNIST.labels("test")
      assert.same({10000}, y:size())
      local raw = file_bytes(folder .. "/fashion-mnist/t10k-labels-idx1-ubyte.gz", 9, 28)
      assert.same(raw, y:narrow(1, 1, 20):totable())
      local counts = core.sum(cnn.onehotbatch(y, cnn.range(0, 9)), 2)
      assert.same({{1000}, {1000}, {1000}, {1000}, {1000}, {1000}, {1000}, {1000}, {1000}, {1000}},
        counts:totable())
      assert.equal("Ankle boot", FashionMNIST.classes[y[1] + 1])
    end)

    it("images: 28×28×N in [0, 1], matching the file", function()
      local x = FashionMNIST.images("test")
      assert.same({28, 28, 10000}, x:size())
      local raw = file_bytes(folder .. "/fashion-mnist/t10k-images-idx3-ubyte.gz", 17, 16 + 784)
      local img = x[1]:totable()
      for i = 1, 784 do
        local row, col = (i - 1) // 28 + 1, (i - 1) % 28 + 1
        assert.equal(f32(raw[i] / 255), img[col][row])
      end
      assert.same({28, 28, 60000}, FashionMNIST.images("train"):size())
    end)
  end)
end

describe("datasets errors", function()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir .. "/mnist"))
  teardown(function() os.execute("rm -rf " .. dir) end)

  local function write(name, bytes)
    return helpers.write_bytes(dir .. "/mnist/" .. name, bytes)
  end

  it("list the valid splits", function()
    assert.equal('MNIST.images: unknown split "valid" (valid splits: "train", "test")',
      err(cnn.datasets.MNIST.images, "valid"))
    assert.equal('FashionMNIST.labels: unknown split 3 (valid splits: "train", "test")',
      err(cnn.datasets.FashionMNIST.labels, 3))
  end)

  it("name the missing file and the command that fetches it", function()
    local path = dir .. "/mnist/t10k-images-idx3-ubyte"
    assert.equal(("MNIST.images: missing %s (or %s.gz); run scripts/fetch-data to download it")
      :format(path, path), err(cnn.datasets.MNIST.images, "test", dir))
    path = dir .. "/fashion-mnist/train-labels-idx1-ubyte"
    assert.equal(("FashionMNIST.labels: missing %s (or %s.gz); run scripts/fetch-data to download it")
      :format(path, path), err(cnn.datasets.FashionMNIST.labels, nil, dir))
  end)

  it("fall back to the .gz file and check the shape of what they read", function()
    local path = write("t10k-labels-idx1-ubyte", string.char(0, 0, 8, 1) .. string.pack(">I4", 3) .. "\3\1\4")
    assert(os.execute(("gzip -nf %q"):format(path)))
    assert.same({3, 1, 4}, cnn.datasets.MNIST.labels("test", dir):totable())
    path = write("t10k-images-idx3-ubyte", string.char(0, 0, 8, 3) .. string.pack(">I4>I4>I4", 2, 3, 3)
      .. string.rep("\0", 18))
    assert.equal(("MNIST.images: %s holds 3×3×2 data, expected 28×28×N images"):format(path),
      err(cnn.datasets.MNIST.images, "test", dir))
  end)
end)
