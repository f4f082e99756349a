//! The one place that names Burn backends, builds devices and reads tensors back.
//!
//! Burn 0.22 picks the backend at run time through [`Device`]; everything else in the crate is
//! backend-agnostic. Reads are async because a synchronous read panics under WebGPU in wasm;
//! native code blocks on them with [`block_on`].

use burn::tensor::{Device, Tensor, TensorData};

use crate::{Error, Result};

/// Which backend to run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// burn-flex: pure-Rust CPU, native and wasm.
    #[cfg(feature = "flex")]
    Flex,
    /// burn-wgpu: Vulkan/Metal natively, WebGPU in the browser.
    #[cfg(feature = "wgpu")]
    Wgpu,
}

/// An inference device of the given kind, seeded.
pub fn device(kind: BackendKind, seed: u64) -> Result<Device> {
    let device = match kind {
        #[cfg(feature = "flex")]
        BackendKind::Flex => Device::flex(),
        #[cfg(feature = "wgpu")]
        BackendKind::Wgpu => wgpu_device()?,
    };
    device.seed(seed);
    Ok(device)
}

/// The process-wide wgpu device: burn's wgpu runtime can be initialised only once.
#[cfg(feature = "wgpu")]
fn wgpu_device() -> Result<Device> {
    static DEVICE: std::sync::OnceLock<std::result::Result<Device, String>> = std::sync::OnceLock::new();
    DEVICE
        .get_or_init(|| block_on(Device::wgpu_options().init_async()).map_err(|e| format!("no wgpu adapter: {e:?}")))
        .clone()
        .map_err(Error::Backend)
}

/// Reads a float tensor back to the host.
pub async fn read_f32<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>> {
    let data: TensorData = tensor.into_data_async().await.map_err(|e| Error::Backend(format!("{e:?}")))?;
    data.convert::<f32>().try_into_vec::<f32>().map_err(|e| Error::Backend(format!("{e:?}")))
}

/// Runs a future to completion on the current thread (native only).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    pollster::block_on(future)
}
