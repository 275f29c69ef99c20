namespace OrleansVectors.Inference.Tests.Faiss;

[Collection(SerialFaissThreadCount.Name)]
public sealed class FaissThreadCountTests
{
    [Fact]
    public async Task Thread_count_is_process_wide_and_zero_restores_the_default()
    {
        var original = FaissLibrary.ThreadCount;
        try
        {
            FaissLibrary.ThreadCount = 0;
            var defaultCount = FaissLibrary.ThreadCount;
            FaissLibrary.ThreadCount = 1;
            var seenElsewhere = await Task.Run(() => FaissLibrary.ThreadCount);
            Assert.Equal(1, seenElsewhere);

            // results do not depend on the thread count
            using var index = FaissIndex.Create(16);
            index.Add(TestData.Uniform(1000, 16, seed: 1));
            var queries = TestData.Uniform(20, 16, seed: 2);
            var single = index.Search(queries, 5);
            FaissLibrary.ThreadCount = 0;
            Assert.Equal(defaultCount, FaissLibrary.ThreadCount);
            Assert.Equal(single.Labels, index.Search(queries, 5).Labels);

            Assert.Throws<ArgumentOutOfRangeException>(() => FaissLibrary.ThreadCount = -1);
        }
        finally
        {
            FaissLibrary.ThreadCount = original;
        }
    }
}
