using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Durability;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Grains.Shards;

/// <summary>
/// The shard's changes: adds (logged first, applied in log order, a retried batch stored once), removes and trainings
/// (applied first, then logged), and the ordering between them.
/// </summary>
internal sealed partial class ShardCore
{
    /// <summary>
    /// Embeds (when the index has a model) and adds vectors under the given global ids; completes once they are in
    /// the log and searchable. A batch id stored already (among the newest <see cref="ShardCoreOptions.RememberedBatches"/>)
    /// or still on its way returns the first attempt's receipt and stores nothing.
    /// </summary>
    /// <param name="generation">The generation the caller addresses.</param>
    /// <param name="batchId">The batch's id, the same on every retry.</param>
    /// <param name="vectors">Embeddings, or raw inputs when the index has a model; at least one row.</param>
    /// <param name="ids">One global id per vector.</param>
    /// <param name="callerIds">Whether the ids came from the caller: they are then checked against the ids the shard holds.</param>
    /// <exception cref="ArgumentException">The ids do not match the vectors, or a caller id is held already.</exception>
    /// <exception cref="ShardLostException">No generation is open.</exception>
    /// <exception cref="StaleGenerationException">Another generation is open, or it was replaced during the add.</exception>
    public async Task<ShardAddResult> AddAsync(Guid generation, Guid batchId, VectorBatch vectors, long[] ids, bool callerIds)
    {
        var state = Require(generation);
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Length != vectors.Count)
        {
            throw new ArgumentException($"{ids.Length} ids for {vectors.Count} vectors.", nameof(ids));
        }

        // one look under the lock at both the stored batches and those in flight: a batch is remembered before it
        // leaves the in-flight table, so a retry finds it in one or the other
        Lazy<Task<BatchReceipt>>? first;
        Lazy<Task<BatchReceipt>> adding;
        lock (_sync)
        {
            if (state.Batches.TryGet(batchId) is { } stored)
            {
                return new ShardAddResult(stored, Retried: true);
            }

            if (!_adding.TryGetValue(batchId, out first))
            {
                adding = new Lazy<Task<BatchReceipt>>(() => AddNewAsync(state, batchId, vectors, ids, callerIds));
                _adding.Add(batchId, adding);
            }
            else
            {
                adding = first;
            }
        }

        if (first is not null)
        {
            // a retry that arrives while the first attempt is still on its way shares its outcome
            return new ShardAddResult(await first.Value.ConfigureAwait(false), Retried: true);
        }

        try
        {
            return new ShardAddResult(await adding.Value.ConfigureAwait(false), Retried: false);
        }
        finally
        {
            lock (_sync)
            {
                _adding.Remove(batchId);
            }
        }
    }

    /// <summary>Embeds (when the index has a model) and trains the index on a sample; completes once logged.</summary>
    /// <exception cref="InvalidOperationException">faiss refused the training (an index that holds vectors); nothing was logged.</exception>
    /// <exception cref="ShardLostException">No generation is open.</exception>
    /// <exception cref="StaleGenerationException">Another generation is open, or it was replaced meanwhile.</exception>
    public async Task TrainAsync(Guid generation, VectorBatch sample)
    {
        var state = Require(generation);
        var embeddings = await models.EmbedAsync(state.Spec, sample).ConfigureAwait(false);
        var frame = LogRecord.Frame(LogRecordKind.Train, Guid.NewGuid(), callerIds: false, trainFirst: true, embeddings.Dimension, [], embeddings.Values);
        await ApplyThenLogAsync(state, frame, index => index.Train(embeddings.Values)).ConfigureAwait(false);
    }

    /// <summary>Removes ids; returns how many the index held. Completes once logged.</summary>
    /// <exception cref="InvalidOperationException">faiss refused the removal (an index type that cannot remove); nothing was logged.</exception>
    /// <exception cref="ShardLostException">No generation is open.</exception>
    /// <exception cref="StaleGenerationException">Another generation is open, or it was replaced meanwhile.</exception>
    public async Task<long> RemoveAsync(Guid generation, long[] ids)
    {
        var state = Require(generation);
        ArgumentNullException.ThrowIfNull(ids);
        long removed = 0;
        var frame = LogRecord.Frame(LogRecordKind.Remove, Guid.NewGuid(), callerIds: false, trainFirst: false, 0, ids, []);
        await ApplyThenLogAsync(state, frame, index =>
        {
            removed = index.Remove(ids);
            lock (_sync)
            {
                state.CallerIds.ExceptWith(ids);
            }
        }).ConfigureAwait(false);
        return removed;
    }

    private async Task<BatchReceipt> AddNewAsync(ShardState state, Guid batchId, VectorBatch vectors, long[] ids, bool callerIds)
    {
        var embeddings = await models.EmbedAsync(state.Spec, vectors).ConfigureAwait(false);
        if (!state.Index.IsTrained)
        {
            // a batch that may train the index must be able to, or fail before it is logged: a replay would fail
            // again. Every batch logged while the index is untrained is checked, whichever ends up training it.
            await CheckTrainingAsync(state, embeddings).ConfigureAwait(false);
        }

        var receipt = new BatchReceipt(batchId, callerIds ? -1 : ids[0], ids.Length);
        Task applied;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            EnsureCurrent(state);
            if (callerIds)
            {
                lock (_sync)
                {
                    var duplicate = Array.FindIndex(ids, state.CallerIds.Contains);
                    if (duplicate >= 0)
                    {
                        throw new ArgumentException($"Id {ids[duplicate]} is already in the index.", nameof(ids));
                    }

                    state.CallerIds.UnionWith(ids);
                }
            }

            // the batch is immutable: the frame and faiss both read its values, with no copy between
            var frame = LogRecord.Frame(LogRecordKind.Add, batchId, callerIds, !state.Index.IsTrained, embeddings.Dimension, ids, embeddings.Values);
            applied = _applied = ApplyAfterAsync(_applied, state.Log.AppendAsync(frame), () =>
            {
                ApplyAdd(state.Index, embeddings.Values, ids);
                Interlocked.Increment(ref _version);
                Interlocked.Add(ref _addedSinceSnapshot, ids.Length);

                // remembered as it is applied, so a snapshot (which waits for applied changes) holds its receipt
                lock (_sync)
                {
                    state.Batches.Remember(receipt);
                }
            });
        }
        finally
        {
            _gate.Release();
        }

        try
        {
            await applied.ConfigureAwait(false);
        }
        catch
        {
            if (callerIds)
            {
                lock (_sync)
                {
                    state.CallerIds.ExceptWith(ids);
                }
            }

            throw;
        }

        return receipt;
    }

    /// <summary>
    /// A change that runs alone (remove, train): applied first, so one that faiss refuses (a remove on HNSW, a
    /// training of an index that holds vectors) fails with nothing logged, never to fail every replay after it; then
    /// logged, and acknowledged once durable. If the log write fails, memory is ahead of the log: the core needs a
    /// reload from the log (<see cref="NeedsReload"/>).
    /// </summary>
    private async Task ApplyThenLogAsync(ShardState state, byte[] frame, Action<FaissIndex> apply)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            EnsureCurrent(state);
            await DrainAppliedAsync().ConfigureAwait(false);
            await RunOnFaissWorkerAsync(() => apply(state.Index)).ConfigureAwait(false);
            Interlocked.Increment(ref _version);
            try
            {
                await state.Log.AppendAsync(frame).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                LogApplyFailed(name, e.Message);
                _needsReload = true;
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Applies a logged change once its log write is durable and every change logged before it is applied.</summary>
    private async Task ApplyAfterAsync(Task previous, Task logged, Action apply)
    {
        try
        {
            await previous.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // the previous change's failure is reported to its own caller
        }

        try
        {
            await logged.ConfigureAwait(false);
        }
        catch
        {
            // a write that failed may still have reached storage (a blob append that timed out after it committed):
            // whether the log holds this change is unknown, so memory is rebuilt from the log before the next change
            _needsReload = true;
            throw;
        }

        try
        {
            await RunOnFaissWorkerAsync(apply).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // logged but not applied: memory no longer matches the log, so start again from the log
            LogApplyFailed(name, e.Message);
            _needsReload = true;
            throw;
        }
    }

    /// <summary>Waits for every logged change to be applied (their failures are reported to their own callers).</summary>
    private async Task DrainAppliedAsync()
    {
        try
        {
            await _applied.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // reported to the change's caller
        }
    }

    private static void ApplyAdd(FaissIndex index, ReadOnlySpan<float> values, ReadOnlySpan<long> ids)
    {
        if (!index.IsTrained)
        {
            index.Train(values);
        }

        index.AddWithIds(values, ids);
    }

    /// <summary>Trains a scratch copy of the shard's index type on <paramref name="vectors"/>, so a batch that cannot train it fails before it is logged.</summary>
    private async Task CheckTrainingAsync(ShardState state, VectorBatch vectors) =>
        await RunOnFaissWorkerAsync(() =>
        {
            using var scratch = state.Location.CreateFaissIndex();
            scratch.Train(vectors.Values);
        }).ConfigureAwait(false);
}

/// <summary>What <see cref="ShardCore.AddAsync"/> stored: the batch's receipt, and whether it was a retry of a batch stored (or being stored) already.</summary>
internal readonly record struct ShardAddResult(BatchReceipt Receipt, bool Retried);
