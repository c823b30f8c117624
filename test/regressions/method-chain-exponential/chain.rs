use kernel::dma::CoherentAllocation;

fn f() {
    x.m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m().m();
}
