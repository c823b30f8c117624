// What dmalint knows of the kernel's Rust API, across versions. Rules read this module; they do
// not spell kernel names themselves. `dmalint.toml` [api] extends it (see withConfig).

export interface KernelApi {
  /** Coherent DMA allocation types (all eras). */
  coherentTypes: Set<string>;
  /** Every type that owns DMA-mapped memory: coherent types, SG tables, configured wrappers. */
  dmaBufferTypes: Set<string>;
  /** Constructors that allocate coherent memory: type name to function names. */
  allocationConstructors: Map<string, Set<string>>;
  /** Types that are a DMA (bus) address. */
  dmaAddressTypes: Set<string>;
  /** Methods that return the bus address of a DMA buffer or SG entry. */
  dmaAddressMethods: Set<string>;
  /** Revocable wrappers: access goes through an RCU guard that only brackets CPU code. */
  revocableTypes: Set<string>;
  /** Methods of a revocable wrapper that give access through a guard or closure. */
  revocableAccess: { guard: Set<string>; closure: Set<string>; checked: Set<string> };
  /** MMIO handle types (usually behind Devres): a write through them reaches the device. */
  mmioTypes: Set<string>;
  /** Register write methods. */
  mmioWriteMethods: Set<string>;
  /** Words in a function name that say it stops the device. */
  quiesceWords: string[];
  /** Extra whole function names that stop the device (config). */
  quiesceFunctions: Set<string>;
  /** Macros that only log; a value passed to them does not reach the device. */
  logMacros: Set<string>;
  /** Types whose generic argument is owned by the outer value (ownership is traversed). */
  nonOwningWrappers: Set<string>;
  /** Types that share ownership beyond one owner. */
  sharedOwnership: Set<string>;
  /** Bus modules whose `Driver` trait binds a driver. */
  buses: Set<string>;
  /** Driver trait methods that run with the driver bound. */
  boundDriverMethods: Set<string>;
  /** Device typestate contexts that prove the device is bound. */
  boundContexts: Set<string>;
  /** Device typestate contexts that prove nothing about binding (the default, refcounted one). */
  unboundContexts: Set<string>;
  /** Reference-counted pointers: they keep a value's memory alive, not a device's binding. */
  refcountTypes: Set<string>;
  /** "Trait::method" (trait by last segment) that run with the device possibly unbound. */
  unboundMethods: Set<string>;
  /** "Trait::method" that run with the driver bound (beyond bus drivers). */
  boundMethods: Set<string>;
  /** Traits implemented by module types (no device bound). */
  moduleTraits: Set<string>;
  /** Traits whose implementors are work items, timers, misc devices, file ops: unbound-capable holders. */
  unboundHolderTraits: Set<string>;
  /** Functions that start a thread running a closure. */
  threadSpawners: Set<string>;
  /** Macros that register a module type: `module! { type: M, .. }` and the bus helpers. */
  moduleMacros: Set<string>;
  /** Macros whose `type:` key names a bus driver. */
  driverModuleMacros: Set<string>;
  /** Macros that declare statics. */
  staticMacros: Set<string>;
  /**
   * Register-write names that other types share (a `KVec`, a file, a coherent buffer's CPU-side
   * `write`): they reach the device only when the receiver or an argument is an MMIO handle, as
   * in a generated register's `REG::default().set_x(..).write(bar)` or `REG::alter(bar, ..)`.
   */
  registerWriteMethods: Set<string>;
  /**
   * Constructors that put a value behind a revocable wrapper: owner (type or module, last
   * segment) to function name to the index of the argument that is the wrapped data.
   */
  revocableConstructors: Map<string, Map<string, number>>;
  /** Methods that store their argument into the receiver (atomics, cells, collections). */
  storeMethods: Set<string>;
  /** Macros that write into DMA memory (the device reads what they write). */
  dmaWriteMacros: Set<string>;
  /** Methods of a revocable wrapper that drop the value inside it. */
  revokeMethods: Set<string>;
  /** Macros that only turn their tokens into text or an error: code written in them never runs. */
  inertMacros: Set<string>;
  /** What kind of unbound-capable context a trait's implementors are (for messages). */
  unboundTraitKinds: Map<string, UnboundContextKind>;
  /** Associated types of holder traits that name the value the kernel keeps (`type Ptr = Pin<KBox<Self>>`). */
  holderPointerTypes: Set<string>;
  /** Methods that return a `struct device` no driver is bound to: type name to method names. */
  unboundDeviceAccessors: Map<string, Set<string>>;
}

/** Contexts that can run with no driver bound: module code, work items, timers, file operations. */
export type UnboundContextKind = 'module' | 'work' | 'timer' | 'file';

const COHERENT = ['CoherentAllocation', 'Coherent', 'CoherentBox', 'CoherentHandle'];

const DEFAULT_API = {
  coherentTypes: COHERENT,
  dmaBufferTypes: [...COHERENT, 'SGTable', 'SgTable'],
  allocationConstructors: {
    CoherentAllocation: ['alloc_coherent', 'alloc_attrs'],
    Coherent: ['zeroed', 'zeroed_with_attrs', 'init', 'init_with_attrs', 'zeroed_slice', 'zeroed_slice_with_attrs'],
    CoherentBox: ['zeroed', 'zeroed_with_attrs', 'init', 'init_with_attrs', 'zeroed_slice', 'zeroed_slice_with_attrs', 'init_at'],
    CoherentHandle: ['alloc', 'alloc_with_attrs', 'zeroed', 'zeroed_with_attrs'],
  } as Record<string, string[]>,
  dmaAddressTypes: ['DmaAddress', 'dma_addr_t'],
  dmaAddressMethods: ['dma_handle', 'dma_handle_with_offset', 'dma_address'],
  revocableTypes: ['Revocable', 'Devres'],
  revocableAccess: {
    guard: ['try_access', 'try_access_with_guard'],
    closure: ['try_access_with'],
    checked: ['access'],
  },
  mmioTypes: ['Bar', 'IoMem', 'ExclusiveIoMem', 'Io', 'Mmio', 'MmioRaw'],
  mmioWriteMethods: [
    'write8', 'write16', 'write32', 'write64', 'writeb', 'writew', 'writel', 'writeq',
    'write8_relaxed', 'write16_relaxed', 'write32_relaxed', 'write64_relaxed',
    'try_write8', 'try_write16', 'try_write32', 'try_write64',
    'try_write8_relaxed', 'try_write16_relaxed', 'try_write32_relaxed', 'try_write64_relaxed',
    'write', 'try_write', 'write_reg', 'try_write_reg',
  ],
  // Releasing an interrupt (`free_irq`) or unmapping a buffer stops no engine: not stop words.
  quiesceWords: ['stop', 'halt', 'quiesce', 'reset', 'disable', 'shutdown', 'unregister', 'teardown', 'clear_master', 'suspend', 'flr', 'fence', 'drain', 'power_off', 'poweroff'],
  logMacros: [
    'dev_emerg', 'dev_alert', 'dev_crit', 'dev_err', 'dev_warn', 'dev_notice', 'dev_info', 'dev_dbg',
    'pr_emerg', 'pr_alert', 'pr_crit', 'pr_err', 'pr_warn', 'pr_notice', 'pr_info', 'pr_debug', 'pr_devel', 'pr_cont',
    'print', 'println', 'eprint', 'eprintln', 'format', 'fmt', 'seq_print', 'debug_assert', 'debug_assert_eq', 'assert', 'assert_eq', 'warn_on', 'build_assert',
  ],
  // A driver registration refers to the driver type; it does not own driver data.
  // A misc device registration names the type of each open file's private data; it owns none.
  nonOwningWrappers: ['PhantomData', 'ARef', 'NonNull', 'Weak', 'Registration', 'Adapter', 'DriverRegistration', 'MiscDeviceRegistration'],
  sharedOwnership: ['Arc', 'ArcBorrow', 'UniqueArc', 'Rc'],
  buses: ['pci', 'platform', 'auxiliary', 'usb', 'i2c', 'spi', 'amba', 'virtio', 'faux', 'serdev', 'mdio', 'phy', 'net', 'drm', 'hid', 'sdio', 'mmc', 'pcmcia', 'cxl', 'vdpa'],
  boundDriverMethods: ['probe', 'unbind', 'remove', 'shutdown'],
  boundContexts: ['Bound', 'Core', 'CoreInternal'],
  unboundContexts: ['Normal'],
  refcountTypes: ['ARef'],
  unboundMethods: [
    'Module::init', 'InPlaceModule::init', 'WorkItem::run', 'HrTimerCallback::run', 'TimerCallback::run',
    'MiscDevice::open', 'MiscDevice::release', 'MiscDevice::ioctl', 'MiscDevice::compat_ioctl', 'MiscDevice::read_iter',
    'MiscDevice::write_iter', 'MiscDevice::mmap', 'MiscDevice::show_fdinfo', 'MiscDevice::llseek', 'MiscDevice::poll',
    'Operations::open', 'Operations::release', 'Operations::read', 'Operations::write', 'Operations::ioctl',
    'Operations::compat_ioctl', 'Operations::mmap', 'Operations::poll', 'Operations::seek', 'Operations::fsync',
    'FileOperations::open', 'FileOperations::release', 'FileOperations::read', 'FileOperations::write', 'FileOperations::ioctl',
  ],
  boundMethods: [] as string[],
  moduleTraits: ['Module', 'InPlaceModule'],
  unboundHolderTraits: ['WorkItem', 'HrTimerCallback', 'TimerCallback', 'MiscDevice', 'Operations', 'FileOperations', 'HasWork', 'HasHrTimer'],
  threadSpawners: ['kthread_run', 'kthread_create', 'spawn', 'run_on_thread', 'try_spawn'],
  moduleMacros: ['module', 'module_pci_driver', 'module_platform_driver', 'module_auxiliary_driver', 'module_usb_driver', 'module_i2c_driver', 'module_driver', 'module_misc_device'],
  driverModuleMacros: ['module_pci_driver', 'module_platform_driver', 'module_auxiliary_driver', 'module_usb_driver', 'module_i2c_driver', 'module_driver'],
  staticMacros: ['global_lock', 'static_lock', 'lazy_static', 'new_mutex', 'new_spinlock'],
  revocableConstructors: {
    Devres: { new: 1, new_foreign_owned: 1 },
    Revocable: { new: 0 },
    devres: { register: 1, register_foreign: 1 },
  } as Record<string, Record<string, number>>,
  storeMethods: ['store', 'swap', 'set', 'replace', 'compare_exchange', 'compare_exchange_weak', 'push', 'push_back', 'push_front', 'push_within_capacity', 'insert', 'extend_from_slice'],
  dmaWriteMacros: ['dma_write'],
  registerWriteMethods: ['write', 'try_write', 'alter', 'try_alter', 'update', 'try_update'],
  revokeMethods: ['revoke', 'revoke_nosync'],
  inertMacros: ['stringify', 'concat', 'compile_error', 'include_str', 'include_bytes', 'env', 'option_env', 'cfg'],
  unboundTraitKinds: {
    Module: 'module', InPlaceModule: 'module',
    WorkItem: 'work', HasWork: 'work',
    HrTimerCallback: 'timer', TimerCallback: 'timer', HasHrTimer: 'timer',
    MiscDevice: 'file', Operations: 'file', FileOperations: 'file',
  } as Record<string, UnboundContextKind>,
  holderPointerTypes: ['Ptr', 'Pointer'],
  unboundDeviceAccessors: { MiscDeviceRegistration: ['device'] } as Record<string, string[]>,
};

export function defaultApi(): KernelApi {
  const d = DEFAULT_API;
  return {
    coherentTypes: new Set(d.coherentTypes),
    dmaBufferTypes: new Set(d.dmaBufferTypes),
    allocationConstructors: new Map(Object.entries(d.allocationConstructors).map(([t, fns]) => [t, new Set(fns)])),
    dmaAddressTypes: new Set(d.dmaAddressTypes),
    dmaAddressMethods: new Set(d.dmaAddressMethods),
    revocableTypes: new Set(d.revocableTypes),
    revocableAccess: {
      guard: new Set(d.revocableAccess.guard),
      closure: new Set(d.revocableAccess.closure),
      checked: new Set(d.revocableAccess.checked),
    },
    mmioTypes: new Set(d.mmioTypes),
    mmioWriteMethods: new Set(d.mmioWriteMethods),
    quiesceWords: [...d.quiesceWords],
    quiesceFunctions: new Set(),
    logMacros: new Set(d.logMacros),
    nonOwningWrappers: new Set(d.nonOwningWrappers),
    sharedOwnership: new Set(d.sharedOwnership),
    buses: new Set(d.buses),
    boundDriverMethods: new Set(d.boundDriverMethods),
    boundContexts: new Set(d.boundContexts),
    unboundContexts: new Set(d.unboundContexts),
    refcountTypes: new Set(d.refcountTypes),
    unboundMethods: new Set(d.unboundMethods),
    boundMethods: new Set(d.boundMethods),
    moduleTraits: new Set(d.moduleTraits),
    unboundHolderTraits: new Set(d.unboundHolderTraits),
    threadSpawners: new Set(d.threadSpawners),
    moduleMacros: new Set(d.moduleMacros),
    driverModuleMacros: new Set(d.driverModuleMacros),
    staticMacros: new Set(d.staticMacros),
    revocableConstructors: new Map(Object.entries(d.revocableConstructors).map(([owner, fns]) => [owner, new Map(Object.entries(fns))])),
    storeMethods: new Set(d.storeMethods),
    dmaWriteMacros: new Set(d.dmaWriteMacros),
    registerWriteMethods: new Set(d.registerWriteMethods),
    revokeMethods: new Set(d.revokeMethods),
    inertMacros: new Set(d.inertMacros),
    unboundTraitKinds: new Map(Object.entries(d.unboundTraitKinds)),
    holderPointerTypes: new Set(d.holderPointerTypes),
    unboundDeviceAccessors: new Map(Object.entries(d.unboundDeviceAccessors).map(([t, ms]) => [t, new Set(ms)])),
  };
}

/**
 * Names a project adds to the kernel API (dmalint.toml's [api] table has this shape; the model
 * does not depend on the config format).
 */
export interface ApiExtensions {
  quiesceFunctions: readonly string[];
  /** "Type::function" */
  allocationConstructors: readonly string[];
  dmaBufferTypes: readonly string[];
  /** "Trait::method" */
  boundMethods: readonly string[];
  unboundMethods: readonly string[];
}

/** The default API extended with a project's names. */
export function apiWithConfig(config: ApiExtensions | undefined): KernelApi {
  const api = defaultApi();
  if (!config) return api;
  for (const name of config.quiesceFunctions) api.quiesceFunctions.add(name);
  for (const entry of config.allocationConstructors) {
    const sep = entry.lastIndexOf('::');
    if (sep <= 0) continue;
    const type = lastSegment(entry.slice(0, sep));
    const fn = entry.slice(sep + 2);
    if (!api.allocationConstructors.has(type)) api.allocationConstructors.set(type, new Set());
    api.allocationConstructors.get(type)!.add(fn);
    api.coherentTypes.add(type);
    api.dmaBufferTypes.add(type);
  }
  for (const t of config.dmaBufferTypes) api.dmaBufferTypes.add(lastSegment(t));
  for (const m of config.boundMethods) api.boundMethods.add(traitMethodKey(m));
  for (const m of config.unboundMethods) api.unboundMethods.add(traitMethodKey(m));
  return api;
}

function lastSegment(path: string): string {
  const parts = path.split('::');
  return parts[parts.length - 1];
}

/** "kernel::workqueue::WorkItem::run" and "WorkItem::run" both key as "WorkItem::run". */
function traitMethodKey(entry: string): string {
  const parts = entry.split('::');
  return parts.slice(-2).join('::');
}

/** Whether a function's name says it stops the device. Matches whole words of a snake_case name. */
export function isQuiesceName(api: KernelApi, name: string): boolean {
  if (api.quiesceFunctions.has(name)) return true;
  const lower = name.toLowerCase();
  const words = lower.split('_');
  for (const q of api.quiesceWords) {
    if (q.includes('_')) {
      if (lower === q || lower.startsWith(q + '_') || lower.endsWith('_' + q) || lower.includes('_' + q + '_')) return true;
    } else if (words.includes(q) || words.some((w) => w === q + 's' || w === q + 'ed' || w === q + 'ped')) {
      return true;
    }
  }
  return false;
}
